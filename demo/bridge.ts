/**
 * The bridge under demonstration: the built server (dist/index.js) as a child process in
 * Streamable HTTP mode on 127.0.0.1, connected to the embedded broker over mutual TLS. Its
 * JSON log lines are shown condensed. It runs in its own process group so that Ctrl-C reaches
 * only the demo, which then stops it once, with SIGTERM, and waits for its exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DemoPki } from './pki.js';

/** Settings every demo bridge shares (HTTP child, Claude Desktop, Inspector over stdio). */
export function bridgeEnv(brokerUrl: string, pki: DemoPki, catalog: string): Record<string, string> {
  return {
    MQTT_URL: brokerUrl,
    // aedes speaks MQTT 3.1.1 only; the bridge's default (5) would be refused at CONNECT.
    MQTT_PROTOCOL_VERSION: '4',
    MQTT_CA_FILE: pki.ca,
    MQTT_CERT_FILE: pki.clientCert,
    MQTT_KEY_FILE: pki.clientKey,
    MCP_READ_TOPICS: 'plant/#,spBv1.0/plant/#',
    MCP_WRITE_TOPICS: 'plant/+/pump/cmd,spBv1.0/plant/NCMD/+',
    MCP_TOPIC_CATALOG_FILE: catalog,
  };
}

export interface BridgeProcess {
  readonly pid: number;
  /** Resolves with the port once /readyz says the broker connection is up. */
  readonly ready: Promise<number>;
  /** The exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** SIGTERM once, wait for the exit (SIGKILL after the grace period); the exit code. */
  stop(graceMs?: number): Promise<number | string>;
}

export class BridgeError extends Error {}

type Say = (line: string) => void;

export interface BridgeStart {
  readonly rootDir: string;
  readonly env: Record<string, string>;
  readonly httpPort: number;
  readonly tokenFile: string;
  readonly readyTimeoutMs?: number;
}

export function launchBridge(start: BridgeStart, say: Say): BridgeProcess {
  const child = spawn(process.execPath, [join(start.rootDir, 'dist', 'index.js')], {
    cwd: start.rootDir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // production: no .env file from the working directory changes what the demo shows.
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      MQTT_CLIENT_ID: 'demo-http-bridge',
      MCP_TRANSPORT: 'http',
      MCP_HTTP_HOST: '127.0.0.1',
      MCP_HTTP_PORT: String(start.httpPort),
      MCP_AUTH: 'token',
      MCP_AUTH_TOKEN_FILE: start.tokenFile,
      ...start.env,
    },
  });
  const pid = child.pid;
  if (pid === undefined) throw new BridgeError(`could not start ${process.execPath} dist/index.js`);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  // The demo must never leave the bridge behind, even when it ends on an unexpected error.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const recent: string[] = [];
  let listeningPort = 0;
  let pending = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const line = pending.slice(0, i);
      pending = pending.slice(i + 1);
      const shown = condense(line);
      recent.push(shown);
      if (recent.length > 20) recent.shift();
      say(`bridge  ${shown}`);
      const port = /"port":(\d+).*"msg":"HTTP transport listening"/.exec(line)?.[1];
      if (port !== undefined) listeningPort = Number(port);
    }
  });

  let stopping: Promise<number | string> | undefined;
  const stop = (graceMs = 6000): Promise<number | string> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    })();
    return stopping;
  };

  const ready = waitReady(child, start, () => listeningPort).catch((error: unknown) => {
    const tail = recent.slice(-8).join('\n  ');
    throw new BridgeError(
      `${(error as Error).message}${tail ? `\n  last bridge log lines:\n  ${tail}` : ''}`,
    );
  });
  return { pid, ready, exited, stop };
}

/** Wait for the listener, then for /readyz to say the broker connection is up. */
async function waitReady(child: ChildProcess, start: BridgeStart, logged: () => number): Promise<number> {
  const deadline = Date.now() + (start.readyTimeoutMs ?? 20_000);
  let lastStatus = 'no answer';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new BridgeError(`the bridge exited early (code ${child.exitCode ?? child.signalCode})`);
    const port = start.httpPort !== 0 ? start.httpPort : logged();
    if (port !== 0) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`, {
          signal: AbortSignal.timeout(1000),
        });
        if (response.ok) return port;
        lastStatus = `/readyz answered ${response.status}`;
      } catch {
        lastStatus = 'no answer on /readyz';
      }
    }
    if (Date.now() > deadline)
      throw new BridgeError(`the bridge was not ready in time (${lastStatus}); is the HTTP mode built?`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v', 'name']);

/** A pino JSON line as "LEVEL message key=value ..."; anything else unchanged. */
export function condense(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const level = LEVELS[Number(entry.level)];
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [level, typeof entry.msg === 'string' ? entry.msg : '', ...fields]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
}
