// Tracezip frames over NATS JetStream, the parts both ends share: the names (one subject per agent
// stream, `<prefix>.frames.<streamId hex>`, so JetStream keeps each stream's frames in order, and
// `<prefix>.control.<streamId hex>` for the gateway's resync requests), the headers a frame carries,
// and the stream both ends declare so that either may start first.
//
// Why the stream keeps acknowledged frames (limits retention, not a work queue): a gateway that meets
// a frame it lacks the state for (another gateway replica took the frames before it, or it restarted)
// rebuilds that state by reading the stream's earlier frames of the same epoch from JetStream, which
// it can only do while they are stored. The agent therefore starts a new epoch every
// `maxEpochFrames` frames: that bounds how far back a gateway ever reads.
//
// Only JetStream features of nats-server 2.9 are used (Debian bookworm ships 2.9.10): file storage,
// limits, discard policy, duplicate window, direct get with next_by_subj, durable pull consumers.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DiscardPolicy, jetstreamManager, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';

export interface JetStreamOptions {
  /** NATS server URLs, e.g. nats://nats-0:4222. */
  servers: string[];
  /** NATS credentials: a user and password, or a token (read from files by the configuration). */
  user?: string;
  password?: string;
  token?: string;
  /** Files the password and token are read from (the configuration keeps secrets out of itself). */
  passwordFile?: string;
  tokenFile?: string;
  /** The JetStream stream holding every agent stream's frames (default SLIMTRACE). */
  stream: string;
  /** Subject prefix: frames on `<prefix>.frames.<id>`, resync requests on `<prefix>.control.<id>`. */
  subjectPrefix: string;
  /** The durable pull consumer the gateways share (default slimtrace-gateways). */
  consumer: string;
  /** Stream limits: bytes and age kept, and what happens when full. */
  maxBytes: number;
  maxAgeMs: number;
  /** new: a full stream refuses publishes (agents keep the data in their disk queues); old: the oldest frames go. */
  discard: 'new' | 'old';
  /** How long JetStream remembers a frame's message id to drop a republished copy. */
  duplicateWindowMs: number;
  /** The agent starts a new epoch after this many frames (bounds how far a gateway replays). */
  maxEpochFrames: number;
  /** How long a gateway may hold a frame unacknowledged before JetStream redelivers it. */
  ackWaitMs: number;
  /** Frames handed out to all gateways together and not yet acknowledged. */
  maxAckPending: number;
  /** Replicas of the stream (1 on a single server; 3 on a cluster for a replicated bus). */
  replicas: number;
}

export const JETSTREAM_DEFAULTS: Omit<JetStreamOptions, 'servers'> = {
  stream: 'SLIMTRACE',
  subjectPrefix: 'slimtrace',
  consumer: 'slimtrace-gateways',
  maxBytes: 10 * 1024 ** 3,
  maxAgeMs: 24 * 3_600_000,
  discard: 'new',
  duplicateWindowMs: 120_000,
  maxEpochFrames: 256,
  ackWaitMs: 30_000,
  maxAckPending: 1000,
  replicas: 1,
};

/** Header naming the stream sequence of the epoch's first frame, for a gateway that must rebuild state. */
export const EPOCH_START_HEADER = 'Slimtrace-Epoch-Start';

export function streamIdHex(streamId: bigint): string {
  return streamId.toString(16).padStart(16, '0');
}

export function frameSubject(o: Pick<JetStreamOptions, 'subjectPrefix'>, streamId: bigint): string {
  return `${o.subjectPrefix}.frames.${streamIdHex(streamId)}`;
}

export function controlSubject(o: Pick<JetStreamOptions, 'subjectPrefix'>, streamId: bigint): string {
  return `${o.subjectPrefix}.control.${streamIdHex(streamId)}`;
}

/** The message id JetStream deduplicates a republished frame by: stream, epoch, sequence. */
export function frameMessageId(streamId: bigint, epoch: number, seq: number): string {
  return `${streamIdHex(streamId)}:${epoch}:${seq}`;
}

/** What a gateway sends an agent on its control subject. */
export interface ResyncRequest {
  /** The epoch the gateway could not decode: the agent starts a new one if it is still in it. */
  epoch: number;
  reason: string;
}

/** Connects with endless reconnects: a bus restart must not end an agent or a gateway. */
export function connectNats(o: Pick<JetStreamOptions, 'servers' | 'user' | 'password' | 'token'>, name: string): Promise<NatsConnection> {
  const auth = { ...(o.user !== undefined ? { user: o.user, pass: o.password ?? '' } : {}), ...(o.token !== undefined ? { token: o.token } : {}) };
  return connect({ servers: o.servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: true, ...auth });
}

const ms = (n: number): number => n * 1_000_000; // JetStream durations are nanoseconds

/**
 * Declares the frames stream (both ends call it, so either may start first). An existing stream of
 * that name is used as it is: an operator may have tuned it (replicas, limits) with the nats CLI.
 */
export async function ensureStream(jsm: JetStreamManager, o: Omit<JetStreamOptions, 'servers'>): Promise<void> {
  const config: Partial<StreamConfig> & { name: string } = {
    name: o.stream,
    subjects: [`${o.subjectPrefix}.frames.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: o.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    max_bytes: o.maxBytes,
    max_age: ms(o.maxAgeMs),
    duplicate_window: ms(o.duplicateWindowMs),
    num_replicas: o.replicas,
    allow_direct: true,
  };
  try {
    const info = await jsm.streams.info(o.stream);
    const wanted = `${o.subjectPrefix}.frames.>`;
    if (!info.config.subjects?.some((s) => s === wanted || s === '>' || s === `${o.subjectPrefix}.>`)) {
      throw new Error(`the JetStream stream ${o.stream} exists but does not take ${wanted} (its subjects: ${(info.config.subjects ?? []).join(', ')}); choose another stream name or subject prefix`);
    }
    return;
  } catch (e) {
    if (!(e instanceof JetStreamApiError) || e.status !== 404) throw e;
  }
  try {
    await jsm.streams.add(config);
  } catch (e) {
    if (!(e instanceof JetStreamApiError)) throw e;
    // Another agent or gateway may have created it between our look and our add; if not, the add's
    // own error says why (e.g. insufficient resources: max_bytes is reserved from the server's store).
    try {
      await jsm.streams.info(o.stream);
    } catch {
      throw new Error(`cannot create the JetStream stream ${o.stream}: ${e.message}`);
    }
  }
}

export { jetstreamManager };
