// `slimtrace serve --role agent|gateway`: runs the agent (OTLP in, Tracezip out) or the gateway
// (Tracezip and OTLP in, OTLP out) until SIGTERM or SIGINT, which stop it gracefully: no new requests,
// in-flight work finished or left in the disk queue for the next start. Configuration from --config
// (YAML, docs/deployment.md) with these flags on top.
import type { Command } from 'commander';
import { Agent, Gateway, loadServeConfig, type ConfigOverrides } from '../../pipeline/index.js';

interface ServeFlags {
  role?: string;
  config?: string;
  listen?: string;
  grpcListen?: string;
  grpc?: boolean;
  gateway: string[];
  backend?: string;
  fileOutput?: string;
  queueDir?: string;
  queueMaxBytes?: string;
  strategy?: string;
  analysis?: string;
  targetReduction?: string;
  decisionWait?: string;
  price?: string;
  dropQuietTraces?: boolean;
  debtLimit?: string;
  tokenFile?: string;
  nats: string[];
  natsStream?: string;
  natsConsumer?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the agent (OTLP/HTTP :4318 and OTLP/gRPC :4317 in, Tracezip to a gateway) or the gateway (Tracezip and OTLP in on :4319, OTLP/HTTP to a backend) until SIGTERM')
    .option('--role <role>', 'agent or gateway (or role: in --config)')
    .option('--config <file>', 'YAML configuration (docs/deployment.md); flags override it')
    .option('--listen <host:port>', 'OTLP/HTTP address (agent, default 0.0.0.0:4318) or frame and OTLP/HTTP address (gateway, default 0.0.0.0:4319)')
    .option('--grpc-listen <host:port>', 'OTLP/gRPC address (default 0.0.0.0:4317; on for agents)')
    .option('--no-grpc', 'no OTLP/gRPC listener')
    .option('--gateway <url>', 'agent: a gateway base URL, e.g. http://gateway:4319 (repeatable: failover in order)', collect, [])
    .option('--backend <url>', 'gateway: the OTLP/HTTP traces endpoint to export to, e.g. http://collector:4318/v1/traces')
    .option('--file-output <file>', 'gateway: append OTLP to this file instead (size-delimited protobuf, or JSON Lines for .json/.jsonl)')
    .option('--queue-dir <dir>', 'disk queue directory (default ./slimtrace-<role>-queue)')
    .option('--queue-max-bytes <size>', 'disk queue bound, e.g. 2GiB (default 1GiB)')
    .option('--strategy <name>', 'agent: sample spans before sending (any strategy of `slimtrace sample`)')
    .option('--analysis <file>', 'agent: analysis.json for --strategy autoscope')
    .option('--target-reduction <ratio>', 'agent: the sampler\'s byte reduction target in [0, 1) (default 0.8)')
    .option('--decision-wait <duration>', 'agent: how long a trace waits for its last span before it is decided (default 10s)')
    .option('--price <unit>', "agent, autoscope: what a kept byte is, 'otlp' (default) or 'tracezip' (the frames sent: the target is then of the wire bytes)")
    .option('--drop-quiet-traces', 'agent, autoscope: while the budget is in debt, drop a trace with nothing anomalous in it whole instead of keeping every trace (docs/sampling.md)')
    .option('--debt-limit <traces>', 'agent, autoscope: how far, in average trace shares, the anomalies of a fault burst may run the byte budget into debt before any is dropped (default 1000; docs/sampling.md)')
    .option('--nats <url>', 'use NATS JetStream between agents and gateways instead of HTTP: a NATS server URL, e.g. nats://nats:4222 (repeatable)', collect, [])
    .option('--nats-stream <name>', 'the JetStream stream for frames (default SLIMTRACE)')
    .option('--nats-consumer <name>', 'gateway: the durable consumer the gateway replicas share (default slimtrace-gateways)')
    .option('--token-file <file>', 'a file holding the bearer token between agents and gateways')
    .action(async (flags: ServeFlags) => {
      const overrides: ConfigOverrides = {
        role: flags.role,
        listen: flags.listen,
        'grpc.listen': flags.grpcListen,
        // --no-grpc is the only way commander says false; without it the role's default holds.
        'grpc.enabled': flags.grpc === false ? false : flags.grpcListen !== undefined ? true : undefined,
        gateways: flags.gateway.length > 0 ? flags.gateway : undefined,
        'backend.url': flags.backend,
        file_output: flags.fileOutput,
        'queue.dir': flags.queueDir,
        'queue.max_bytes': flags.queueMaxBytes,
        'sampling.strategy': flags.strategy,
        'sampling.analysis': flags.analysis,
        'sampling.target_reduction': flags.targetReduction,
        'sampling.decision_wait': flags.decisionWait,
        'sampling.price': flags.price,
        'sampling.drop_quiet_traces': flags.dropQuietTraces,
        'sampling.debt_limit': flags.debtLimit,
        'auth.bearer_token_file': flags.tokenFile,
        'transport.jetstream.servers': flags.nats.length > 0 ? flags.nats : undefined,
        'transport.jetstream.stream': flags.natsStream,
        'transport.jetstream.consumer': flags.natsConsumer,
      };
      if (flags.strategy === undefined) for (const k of ['sampling.analysis', 'sampling.target_reduction', 'sampling.decision_wait', 'sampling.price', 'sampling.drop_quiet_traces', 'sampling.debt_limit']) if (overrides[k] !== undefined && !flags.config) overrides['sampling.strategy'] = 'autoscope';
      const config = await loadServeConfig(flags.config, overrides);
      const service = config.role === 'agent' ? await Agent.start(config) : await Gateway.start(config);
      // Replace the CLI's exit-at-once signal handlers: a server stops gracefully.
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.stderr.write(`slimtrace ${config.role}: ${signal}: stopping (up to ${config.shutdownTimeoutMs} ms)\n`);
          // A second signal means now.
          process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
          void service.stop().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
