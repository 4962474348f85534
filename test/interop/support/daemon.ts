/**
 * A broker process started by an interoperability test: its own process group (Erlang brokers
 * start helper processes under a shell wrapper), its output appended to a log file in the
 * broker's temp dir, stopped by its PID (the group is the PID's) and killed when the test
 * process exits, whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { sleep } from '../../helpers/broker.js';

const running = new Set<Daemon>();
process.on('exit', () => {
  for (const daemon of running) daemon.killGroupNow();
});

export interface DaemonSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly logFile: string;
}

export class Daemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private spawnError: string | undefined;

  constructor(readonly spec: DaemonSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process wrote so far (all runs: the log file is appended to). */
  log(): string {
    return existsSync(this.spec.logFile) ? readFileSync(this.spec.logFile, 'utf8') : '';
  }

  start(): void {
    if (this.alive) throw new Error(`${this.spec.name} is already running (pid ${this.pid})`);
    const fd = openSync(this.spec.logFile, 'a');
    try {
      const child = spawn(this.spec.command, [...this.spec.args], {
        cwd: this.spec.cwd,
        env: this.spec.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      this.child = child;
      running.add(this);
      this.exited = new Promise((resolve) =>
        child.once('exit', () => {
          resolve();
        }),
      );
      child.once('error', (error) => {
        this.spawnError = `cannot start ${this.spec.command}: ${error.message}`;
      });
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM to the group, wait for the leader's exit (at most graceMs), then SIGKILL whatever is left. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.child === undefined) return;
    if (this.alive) {
      this.signalGroup('SIGTERM');
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) this.signalGroup('SIGKILL');
      await this.exited;
    }
    // Helpers of the leader (an Erlang VM under its shell wrapper) go with it.
    this.signalGroup('SIGKILL');
    running.delete(this);
  }

  async kill(): Promise<void> {
    if (this.child === undefined) return;
    this.signalGroup('SIGKILL');
    await this.exited;
    running.delete(this);
  }

  /** Wait until the log written after `from` (a length of log()) matches. */
  async waitForLog(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.log().slice(from));
      if (match !== null) return match[0];
      if (this.spawnError !== undefined) throw new Error(`${this.spec.name}: ${this.spawnError}`);
      if (!this.alive) throw new Error(`${this.spec.name} exited; log:\n${this.log().slice(-4000)}`);
      if (Date.now() > deadline)
        throw new Error(`${this.spec.name}: log never matched ${pattern}:\n${this.log().slice(-4000)}`);
      await sleep(50);
    }
  }

  killGroupNow(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** Wait until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await sleep(50);
  }
}
