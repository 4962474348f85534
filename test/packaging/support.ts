/**
 * What the packaging tests share: the repository's package.json, a clean environment with the
 * Node that runs the tests first on PATH, an MCP client over stdio whose server processes are
 * all stopped by PID afterwards (npx runs the bridge as a grandchild), and a one-shot start for
 * configuration errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { adopt } from '../helpers/broker.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly mcpName: string;
  readonly bin: Record<string, string>;
  readonly files: readonly string[];
  readonly engines: { readonly node: string };
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

export const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;
export const PKG = readJson<PackageJson>(join(ROOT, 'package.json'));

/** Nothing of the test runner's environment but PATH (this Node first) and HOME. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? '/tmp',
    npm_config_update_notifier: 'false',
  };
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) env[name] = value;
  return env;
}

/** The PIDs under a process (Linux /proc), deepest last. */
export function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface StdioSession {
  readonly client: Client;
  /** The server's stderr so far. */
  stderr(): string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Close stdin and wait for every process of the server to end (SIGKILL after 5 s). */
  close(): Promise<void>;
}

/** Start a server command over stdio, initialize it and remember every PID it runs as. */
export async function connectStdio(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command,
    args: [...args],
    cwd: options.cwd,
    env: options.env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'packaging-test', version: '1.0.0' });
  const pids = new Set<number>();
  const close = async (): Promise<void> => {
    const top = transport.pid;
    if (top !== null && top !== undefined) for (const pid of [top, ...descendants(top)]) pids.add(pid);
    await client.close();
    const deadline = Date.now() + 5000;
    while ([...pids].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  try {
    await client.connect(transport);
  } catch (error) {
    await close();
    throw new Error(`the server did not initialize:\n${stderr}`, { cause: error });
  }
  const top = transport.pid;
  if (top !== null && top !== undefined) for (const pid of [top, ...descendants(top)]) pids.add(pid);
  return {
    client,
    stderr: () => stderr,
    call: async (name, callArgs = {}) =>
      (await client.callTool({ name, arguments: callArgs })) as CallToolResult,
    close,
  };
}

/** Poll mqtt_status until the bridge is connected to the broker. */
export async function waitConnected(session: StdioSession, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await session.call('mqtt_status');
    const status = result.structuredContent as Record<string, any>;
    if (status.connection?.state === 'connected') return status;
    if (Date.now() > deadline)
      throw new Error(`not connected: ${JSON.stringify(status.connection)}\n${session.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a start that is expected to end by itself (a configuration error); killed after 20 s. */
export function runToExit(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Exit> {
  return new Promise((resolvePromise) => {
    const child = adopt(spawn(command, [...args], { ...options, stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) for (const pid of descendants(child.pid)) process.kill(pid, 'SIGKILL');
      child.kill('SIGKILL');
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * The one-line configuration error: exit 1, nothing on stdout, one pino line on stderr whose
 * problems are returned.
 */
export function configProblems(exit: Exit): string[] {
  assert.equal(exit.code, 1, exit.stderr);
  assert.equal(exit.stdout, '');
  const lines = exit.stderr.trim().split('\n');
  assert.equal(lines.length, 1, exit.stderr);
  const entry = JSON.parse(lines[0]!) as { level: number; problems: string[] };
  assert.equal(entry.level, 60);
  return entry.problems;
}
