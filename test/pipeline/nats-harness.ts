// A real nats-server with JetStream for the transport tests (Debian's `nats-server` package, which
// .ci/run installs): started on a free loopback port with its store in a directory the test owns, so
// it can be killed and started again on the same port and store. Tests skip when the binary is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';

/** Why the JetStream tests cannot run here, or undefined when nats-server is installed. */
export function natsServerMissing(): string | undefined {
  const r = spawnSync('nats-server', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` } });
  if (r.error || r.status !== 0) return 'nats-server is not installed (apt-get install nats-server): the JetStream transport tests are skipped';
  return undefined;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

export class NatsServer {
  private child: ChildProcess | undefined;
  port = 0;

  constructor(
    readonly storeDir: string,
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    this.child = spawn('nats-server', ['-js', '-sd', this.storeDir, '-a', '127.0.0.1', '-p', String(this.port), ...this.extraArgs], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin` },
    });
    let log = '';
    this.child.stderr!.on('data', (c: Buffer) => {
      if (log.length < 20_000) log += c.toString('utf8');
    });
    const deadline = Date.now() + 20_000;
    while (!log.includes('Server is ready')) {
      if (this.child.exitCode !== null) throw new Error(`nats-server exited: ${log}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not start within 20 s: ${log}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    await new Promise<void>((ok, fail) => {
      const c = tcpConnect(this.port, '127.0.0.1', () => {
        c.destroy();
        ok();
      });
      c.on('error', fail);
    });
    return this;
  }

  /** SIGKILL: no clean shutdown (what JetStream acknowledged must survive in the store directory). */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((ok) => c.once('exit', ok));
    c.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((ok) => c.once('exit', ok));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
