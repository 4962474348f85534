/**
 * A real Mosquitto per test: its own config, ACL and log in a temp dir, a TLS listener on
 * 127.0.0.1 and an ephemeral port, stopped by its PID. Used by the integration and e2e tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pki } from './pki.js';

/** Child processes started by tests: killed when the test process exits, whatever happened. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Track a child so that it never outlives the test process (see --test-force-exit in run-tests.mjs). */
export function adopt(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export const MOSQUITTO = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

export interface BrokerOptions {
  readonly pki: Pki;
  /** ACL file body; default: the bridge may read and write plant/#, the spy everything. */
  readonly acl?: string;
  /** Reuse a port (restart on the same address). */
  readonly port?: number;
  readonly extraConfig?: readonly string[];
  readonly nodelay?: boolean;
  /** Another server certificate and key than the PKI's (an expired one, say). */
  readonly server?: { readonly cert: string; readonly key: string };
}

export const DEFAULT_ACL = [
  'user mcp-bridge',
  'topic readwrite plant/#',
  'topic read $SYS/broker/uptime',
  '',
  'user spy',
  'topic readwrite #',
  '',
].join('\n');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class Broker {
  private child: ChildProcess | undefined;
  readonly dir: string;
  port = 0;

  constructor(readonly options: BrokerOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-broker-'));
  }

  get logFile(): string {
    return join(this.dir, 'mosquitto.log');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  async start(): Promise<this> {
    for (let attempt = 0; attempt < 5; attempt++) {
      this.port = this.options.port ?? this.port ?? 0;
      if (this.port === 0 || (attempt > 0 && this.options.port === undefined)) this.port = await freePort();
      if (await this.tryStart()) return this;
      if (this.options.port !== undefined) await sleep(200);
    }
    throw new Error(`mosquitto did not start; log:\n${this.log()}`);
  }

  private async tryStart(): Promise<boolean> {
    const { pki } = this.options;
    const acl = join(this.dir, 'acl');
    writeFileSync(acl, this.options.acl ?? DEFAULT_ACL);
    const conf = join(this.dir, 'mosquitto.conf');
    const lines = [
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      'per_listener_settings true',
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous false',
      `cafile ${pki.ca}`,
      `certfile ${this.options.server?.cert ?? pki.serverCert}`,
      `keyfile ${this.options.server?.key ?? pki.serverKey}`,
      'require_certificate true',
      'use_identity_as_username true',
      'tls_version tlsv1.2',
      `acl_file ${acl}`,
      `set_tcp_nodelay ${this.options.nodelay === false ? 'false' : 'true'}`,
      'persistence false',
      `log_dest file ${this.logFile}`,
      'log_type all',
      'connection_messages true',
      'log_timestamp true',
      ...(this.options.extraConfig ?? []),
    ];
    writeFileSync(conf, lines.join('\n') + '\n');
    const logStart = this.log().length;
    const child = adopt(spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) return false;
      // Only this run's lines count: on a restart the log still holds the previous "running".
      if (/mosquitto version \S+ running/.test(this.log().slice(logStart))) return true;
      await sleep(25);
    }
    child.kill('SIGKILL');
    throw new Error(`mosquitto did not report running: ${stderr}\n${this.log()}`);
  }

  /** Stop (SIGTERM) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Restart on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    const deadline = Date.now() + 5000;
    while (!(await this.tryStart())) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not restart on ${this.port}:\n${this.log()}`);
      await sleep(200);
    }
  }

  async waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.log());
      if (match !== null) return match[0];
      if (Date.now() > deadline)
        throw new Error(`broker log never matched ${pattern}:\n${this.log().slice(-3000)}`);
      await sleep(25);
    }
  }
}

export async function startBroker(options: BrokerOptions): Promise<Broker> {
  return new Broker(options).start();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until check() returns a truthy value (0, '', false, null and undefined mean "not yet"). */
type Falsy = undefined | null | false | 0 | '';

/** Poll a check (sync or async) until it gives a truthy value. */
export async function waitFor<T>(
  check: () => T | Falsy | Promise<T | Falsy>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
