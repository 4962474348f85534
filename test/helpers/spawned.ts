/**
 * The built server (dist/index.js) as a separate process, reached over stdio or Streamable
 * HTTP with the SDK's own client transports. Used to run the same behaviour suite over both
 * transports, black-box: only MCP calls, HTTP requests and the process's stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ElicitRequestSchema,
  type CallToolResult,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import { randomBytes } from 'node:crypto';
import { adopt, sleep, waitFor } from './broker.js';
import { textOf } from './bridge.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SERVER = join(ROOT, 'dist/index.js');
export type TransportKind = 'stdio' | 'http';

export interface SpawnedBridge {
  readonly kind: TransportKind;
  readonly client: Client;
  /** HTTP only: base URL and bearer token. */
  readonly url: string | undefined;
  readonly token: string | undefined;
  stderr(): string;
  /** Send a signal to the server process. */
  signal(signal: NodeJS.Signals): void;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  ok<T = Record<string, any>>(name: string, args?: Record<string, unknown>): Promise<T>;
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  /** Poll mqtt_status until connected. */
  connected(timeoutMs?: number): Promise<Record<string, any>>;
  close(): Promise<void>;
}

/** A process environment with nothing inherited but PATH. */
export function cleanEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...extra };
}

export interface HttpProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly token: string;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Start dist/index.js in HTTP mode on a free loopback port with a fresh token (unless env sets
 * auth). `fileLimit` runs it with that many file descriptors (`ulimit -n`, as in a container).
 */
export async function startHttpProcess(
  env: Record<string, string>,
  options: { fileLimit?: number } = {},
): Promise<HttpProcess> {
  const token = randomBytes(32).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-http-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const [command, args] =
    options.fileLimit === undefined
      ? [process.execPath, [SERVER]]
      : ['/bin/sh', ['-c', `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, process.execPath, SERVER]];
  const child = adopt(
    spawn(command, args, {
      env: cleanEnv({
        MCP_TRANSPORT: 'http',
        MCP_HTTP_HOST: '127.0.0.1',
        MCP_HTTP_PORT: '0',
        MCP_AUTH_TOKEN_FILE: tokenFile,
        ...env,
        // The listening port is read from the info log line.
        LOG_LEVEL: env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace' ? env.LOG_LEVEL : 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await waitFor(
    () =>
      Number(/"port":(\d+),"auth":"\w+".*"msg":"HTTP transport listening"/.exec(stderr)?.[1] ?? 0) ||
      (child.exitCode !== null ? -1 : 0),
    10_000,
    'HTTP listener',
  );
  if (port === -1) throw new Error(`server exited: ${stderr}`);
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    token,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      // Already gone (an exit code, or a signal such as SIGABRT when V8 ran out of heap).
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      return exited;
    },
  };
}

export interface SpawnOptions {
  /** Make the client support MCP elicitation, answering every request with this function. */
  readonly elicit?: (message: string) => ElicitResult;
}

export async function spawnBridge(
  kind: TransportKind,
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<SpawnedBridge> {
  const client = new Client(
    { name: `test-${kind}`, version: '1.0.0' },
    options.elicit !== undefined ? { capabilities: { elicitation: {} } } : {},
  );
  const elicit = options.elicit;
  if (elicit !== undefined) {
    client.setRequestHandler(ElicitRequestSchema, (request) => elicit(request.params.message));
  }
  let stderrOf: () => string;
  let pidOf: () => number | null | undefined;
  let stop: () => Promise<unknown>;
  let url: string | undefined;
  let token: string | undefined;
  if (kind === 'stdio') {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [SERVER],
      env: cleanEnv(env),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    stderrOf = () => stderr;
    pidOf = () => transport.pid;
    await client.connect(transport);
    stop = () => client.close();
  } else {
    const proc = await startHttpProcess(env);
    url = proc.url;
    token = proc.token;
    stderrOf = () => proc.stderr();
    pidOf = () => proc.child.pid;
    const transport = new StreamableHTTPClientTransport(new URL(`${proc.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${proc.token}` } },
    });
    await client.connect(transport);
    stop = async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
      await proc.stop();
    };
  }
  await client.listTools(); // lets the client validate results against the output schemas
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const ok = async <T>(name: string, args?: Record<string, unknown>): Promise<T> => {
    const result = await call(name, args);
    if (result.isError === true) throw new Error(`${name} failed: ${textOf(result)}`);
    return result.structuredContent as T;
  };
  return {
    kind,
    client,
    url,
    token,
    stderr: () => stderrOf(),
    signal: (signal) => {
      const pid = pidOf();
      if (pid === null || pid === undefined) throw new Error('the server process is not running');
      process.kill(pid, signal);
    },
    call,
    ok,
    fails: async (name, args) => {
      const result = await call(name, args);
      if (result.isError !== true) throw new Error(`${name} unexpectedly succeeded: ${textOf(result)}`);
      return textOf(result);
    },
    connected: async (timeoutMs = 8000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = await ok<Record<string, any>>('mqtt_status');
        if (status.connection.state === 'connected' && status.subscriptions.length >= 0) return status;
        if (Date.now() > deadline) throw new Error(`not connected: ${JSON.stringify(status.connection)}`);
        await sleep(50);
      }
    },
    close: async () => {
      await stop();
    },
  };
}

/** Poll a tool until `check` accepts its structured result. */
export async function pollTool<T = Record<string, any>>(
  bridge: SpawnedBridge,
  name: string,
  args: Record<string, unknown>,
  check: (result: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await bridge.ok<T>(name, args);
    if (check(result)) return result;
    if (Date.now() > deadline)
      throw new Error(`${name} never satisfied the check: ${JSON.stringify(result).slice(0, 500)}`);
    await sleep(50);
  }
}
