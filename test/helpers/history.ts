/**
 * Helpers for the history tests over the built server (dist/index.js): the bridge environment
 * with a history file, waiting for records to be written (mqtt_status history.written), a run
 * that is expected to stop at start (exit code and stderr), a paced publisher in its own
 * process, and a read-only look into a history file with node:sqlite.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { adopt, sleep, startBroker, waitFor, type Broker } from './broker.js';
import { bridgeEnv } from './bridge.js';
import { createPki, type Pki } from './pki.js';
import { connectSpy, type Spy } from './spy.js';
import { cleanEnv, ROOT, SERVER, type SpawnedBridge } from './spawned.js';

export interface HistoryFixture {
  readonly pki: Pki;
  readonly broker: Broker;
  readonly spy: Spy;
  /** A temporary folder for the suite's history files, removed after it. */
  readonly dir: string;
}

/**
 * The suite's PKI, Mosquitto over mutual TLS, a spy client and a temporary folder, made in before()
 * and stopped (by PID) and removed in after(); `use` gets them once they are there.
 */
export function historyFixture(prefix: string, use: (f: HistoryFixture) => void): void {
  let made: Partial<{ -readonly [K in keyof HistoryFixture]: HistoryFixture[K] }> = {};
  before(async () => {
    const pki = createPki();
    const broker = await startBroker({ pki });
    made = { pki, broker };
    const spy = await connectSpy(broker, pki);
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made = { pki, broker, spy, dir };
    use({ pki, broker, spy, dir });
  });
  after(async () => {
    await made.spy?.close();
    await made.broker?.stop();
    if (made.dir !== undefined) rmSync(made.dir, { recursive: true, force: true });
  });
}

/** The bridge environment with a history file flushed every 100 ms. */
export function historyEnv(
  broker: Broker,
  pki: Pki,
  path: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return bridgeEnv(broker, pki, { HISTORY_PATH: path, HISTORY_FLUSH_MS: '100', LOG_LEVEL: 'info', ...extra });
}

/** mqtt_status.history of a spawned bridge. */
export async function historyStatus(bridge: SpawnedBridge): Promise<Record<string, any>> {
  return (await bridge.ok('mqtt_status')).history as Record<string, any>;
}

/** Poll mqtt_status until the bridge reports at least `records` written; returns the history status. */
export async function written(
  bridge: SpawnedBridge,
  records: number,
  timeoutMs = 10_000,
): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const h = await historyStatus(bridge);
    if (h.written >= records) return h;
    if (Date.now() > until) throw new Error(`${records} records not written: ${JSON.stringify(h)}`);
    await sleep(50);
  }
}

/** Poll mqtt_status until history is in `state` (recording or paused). */
export async function historyState(
  bridge: SpawnedBridge,
  state: 'recording' | 'paused',
  timeoutMs = 15_000,
): Promise<Record<string, any>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const h = await historyStatus(bridge);
    if (h.state === state) return h;
    if (Date.now() > until) throw new Error(`history never ${state}: ${JSON.stringify(h)}`);
    await sleep(100);
  }
}

export interface Exited {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Start dist/index.js over stdio with stdin open and wait for it to exit on its own. */
export async function runUntilExit(env: Record<string, string>, timeoutMs = 10_000): Promise<Exited> {
  const child = adopt(
    spawn(process.execPath, [SERVER], { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface Flood {
  readonly child: ChildProcess;
  /** Stop it (SIGKILL) and wait for the exit. */
  stop(): Promise<void>;
}

/** The soak suite's paced QoS 0 publisher, in its own process, on `prefix`0..topics-1. */
export async function startFlood(
  broker: Broker,
  pki: Pki,
  options: { rate: number; seconds: number; topics: number; size: number; prefix: string },
): Promise<Flood> {
  pki.issueClient('spy'); // the publisher's identity files
  const child = adopt(
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'test/soak/flood-publisher.ts'),
        broker.url,
        pki.dir,
        String(options.rate),
        String(options.seconds),
        String(options.topics),
        String(options.size),
        options.prefix,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(
    () => stdout.includes('"ready":true') || (child.exitCode !== null ? 'exited' : false),
    10_000,
    'the flood publisher connected',
  );
  if (child.exitCode !== null) throw new Error(`flood publisher exited: ${stderr}`);
  return {
    child,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

/** PRAGMA integrity_check and the number of recorded messages, read-only. */
export function inspectHistory(path: string): { integrity: string; messages: number } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const integrity = String(db.prepare('PRAGMA integrity_check').get()?.integrity_check);
    const messages = Number(db.prepare('SELECT COUNT(*) AS n FROM messages').get()?.n);
    return { integrity, messages };
  } finally {
    db.close();
  }
}
