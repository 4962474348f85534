/**
 * Streamable HTTP: N concurrent MCP clients (each its own bearer token, session and keep-alive
 * connection) calling read tools in a closed loop against dist/index.js in HTTP mode, for
 * N = 1 .. 50, versus one stdio client of an identical bridge doing the same calls. Both
 * bridges hold the same store (10,000 messages in 1,000 topics, filled over MQTT). Per round:
 * A the stdio client, then B every HTTP level. Figures: calls/s, p50/p99 latency, errors, and
 * the HTTP server's resident memory (sampled every 100 ms) per level and after the sessions are
 * closed. The clients run in the bench process: on two cores they compete with the server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adopt } from '../../test/helpers/broker.js';
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, publishFlood, SERVER } from '../lib/context.js';
import { rssOf, sleep, waitExit } from '../lib/proc.js';
import { HttpRpc, type StdioRpc } from '../lib/rpc.js';
import { startBridge, waitForStore } from '../lib/servers.js';
import { latency, spread, type LatencySummary, type Spread } from '../lib/stats.js';

export const CALLS: Array<{ tool: string; args: Record<string, unknown> }> = [
  { tool: 'mqtt_read_messages', args: { filter: 'bench/s3/#', limit: 20 } },
  { tool: 'mqtt_get_latest', args: { filter: 'bench/+/d42/+' } },
  { tool: 'mqtt_list_topics', args: { filter: 'bench/s3/#', limit: 100 } },
];

export interface HttpLevel {
  readonly clients: number;
  readonly callsPerSecond: number;
  readonly latency: LatencySummary;
  readonly errors: number;
  readonly firstError?: string;
  readonly peakRss: number;
}

export interface HttpResult {
  readonly seconds: number;
  readonly levels: number[];
  readonly rounds: Array<{ stdio: { callsPerSecond: number; latency: LatencySummary }; http: HttpLevel[] }>;
  readonly stdioCallsPerSecond: Spread;
  readonly stdioP99: Spread;
  /** Per level: calls/s, p99, ratio to stdio calls/s, errors, peak RSS. */
  readonly summary: Array<{
    clients: number;
    callsPerSecond: Spread;
    p50: Spread;
    p99: Spread;
    ratioToStdio: Spread;
    errors: number;
    peakRss: Spread;
  }>;
  readonly rssBefore: number;
  readonly rssAfterClose: number;
  readonly totalErrors: number;
  /**
   * Bounded memory: the same load from the largest level against a bridge whose V8 old space
   * is capped (--max-old-space-size): it must keep answering without errors and without
   * running out of heap, i.e. what it holds does not grow with the number of calls.
   */
  readonly bounded: {
    heapCapMiB: number;
    seconds: number;
    calls: number;
    errors: number;
    alive: boolean;
    rssEnd: number;
    firstError?: string;
  };
}

export async function startHttpBridge(
  ctx: BenchContext,
  tokens: string[],
  nodeArgs: readonly string[] = [],
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-bench-http-'));
  const tokenFile = join(dir, 'tokens');
  writeFileSync(tokenFile, tokens.map((t, i) => `c${i}=${t}`).join('\n') + '\n', { mode: 0o600 });
  const child = adopt(
    spawn(process.execPath, [...nodeArgs, SERVER], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        NODE_ENV: 'production',
        ...bridgeEnv(ctx, {
          MCP_TRANSPORT: 'http',
          MCP_HTTP_HOST: '127.0.0.1',
          MCP_HTTP_PORT: '0',
          MCP_AUTH: 'token',
          MCP_AUTH_TOKEN_FILE: tokenFile,
          MCP_HTTP_MAX_SESSIONS: '1000',
          MCP_HTTP_RATE_LIMIT_PER_MINUTE: '1000000',
          MCP_READ_TOPICS: 'bench/#',
          MQTT_SUBSCRIBE: 'bench/#',
          LOG_LEVEL: 'info',
        }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-65_536);
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const port = /"port":(\d+).*"msg":"HTTP transport listening"/.exec(stderr)?.[1];
    if (port !== undefined) return { child, port: Number(port), stderr: () => stderr };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`HTTP bridge did not start:\n${stderr}`);
    await sleep(25);
  }
}

async function boundedCheck(
  ctx: BenchContext,
  tokens: string[],
  n: number,
  seconds: number,
): Promise<HttpResult['bounded']> {
  const heapCapMiB = 96;
  const http = await startHttpBridge(ctx, tokens, [`--max-old-space-size=${heapCapMiB}`]);
  // The store of the shared broker is refilled by retained-free traffic: publish the same 10k.
  await publishFlood(ctx, { count: 10_000, topics: 1000, prefix: 'bench', scheme: 'tree' });
  await sleep(500);
  const clients: HttpRpc[] = [];
  for (let i = 0; i < n; i++) {
    const client = new HttpRpc(http.port, tokens[i] as string);
    await client.initialize();
    clients.push(client);
  }
  const r = await closedLoop(seconds, n, async (w, i) => {
    const c = CALLS[(i + w) % CALLS.length]!;
    return clients[w]!.callTool(c.tool, c.args);
  });
  await Promise.all(clients.map((c) => c.close()));
  const alive = http.child.exitCode === null && http.child.signalCode === null;
  const rssEnd = rssOf(http.child.pid ?? 0);
  http.child.kill('SIGTERM');
  await waitExit(http.child);
  return {
    heapCapMiB,
    seconds,
    calls: r.times.length,
    errors: r.errors,
    alive,
    rssEnd,
    ...(r.firstError !== undefined ? { firstError: r.firstError } : {}),
  };
}

export async function closedLoop(
  seconds: number,
  workers: number,
  call: (worker: number, i: number) => Promise<{ ok: boolean; detail?: string }>,
): Promise<{ times: number[]; errors: number; firstError?: string; elapsed: number }> {
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t = performance.now();
        try {
          const r = await call(w, i);
          if (!r.ok) {
            errors++;
            firstError ??= r.detail;
          }
        } catch (error) {
          errors++;
          firstError ??= String(error);
        }
        times.push(performance.now() - t);
      }
    }),
  );
  return {
    times,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    elapsed: (performance.now() - start) / 1000,
  };
}

export async function runHttp(ctx: BenchContext): Promise<HttpResult> {
  const quick = ctx.options.quick;
  const seconds = quick ? 1 : 2;
  const levels = quick ? [1, 10, 50] : [1, 2, 5, 10, 20, 50];
  const maxClients = Math.max(...levels);
  const tokens = Array.from({ length: maxClients }, () => randomBytes(32).toString('hex'));
  const http = await startHttpBridge(ctx, tokens);
  const stdio: StdioRpc = await startBridge(
    bridgeEnv(ctx, { MCP_READ_TOPICS: 'bench/#', MQTT_SUBSCRIBE: 'bench/#' }),
  );
  // Fill both stores over MQTT: 10,000 messages over 1,000 topics.
  await publishFlood(ctx, { count: 10_000, topics: 1000, prefix: 'bench', scheme: 'tree' });
  await waitForStore(stdio, { messages: 10_000 });
  await sleep(500);
  const rssBefore = rssOf(http.child.pid ?? 0);
  const clients: HttpRpc[] = [];
  for (let i = 0; i < maxClients; i++) {
    const client = new HttpRpc(http.port, tokens[i] as string);
    await client.initialize();
    clients.push(client);
  }
  const rounds: HttpResult['rounds'] = [];
  try {
    for (let round = 0; round < ctx.options.rounds; round++) {
      const s = await closedLoop(seconds, 1, async (_w, i) => {
        const c = CALLS[i % CALLS.length]!;
        const r = await stdio.callTool(c.tool, c.args);
        return { ok: !r.line.includes('"isError":true'), detail: r.line.slice(0, 200) };
      });
      const stdioRound = { callsPerSecond: s.times.length / s.elapsed, latency: latency(s.times) };
      const httpRound: HttpLevel[] = [];
      for (const n of levels) {
        let peakRss = 0;
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(http.child.pid ?? 0))), 100);
        const h = await closedLoop(seconds, n, async (w, i) => {
          const c = CALLS[(i + w) % CALLS.length]!;
          return clients[w]!.callTool(c.tool, c.args);
        });
        clearInterval(sampler);
        peakRss = Math.max(peakRss, rssOf(http.child.pid ?? 0));
        httpRound.push({
          clients: n,
          callsPerSecond: h.times.length / h.elapsed,
          latency: latency(h.times),
          errors: h.errors,
          ...(h.firstError !== undefined ? { firstError: h.firstError } : {}),
          peakRss,
        });
      }
      rounds.push({ stdio: stdioRound, http: httpRound });
      ctx.log(
        `http round ${round + 1}: stdio ${Math.round(stdioRound.callsPerSecond)} calls/s p99 ${stdioRound.latency.p99.toFixed(2)} ms; ` +
          httpRound
            .map(
              (l) =>
                `${l.clients}c ${Math.round(l.callsPerSecond)}/s p99 ${l.latency.p99.toFixed(1)} ms${l.errors > 0 ? ` ERR ${l.errors}` : ''} RSS ${(l.peakRss / 2 ** 20).toFixed(0)}M`,
            )
            .join(', '),
      );
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  await sleep(500);
  const rssAfterClose = rssOf(http.child.pid ?? 0);
  http.child.kill('SIGTERM');
  await Promise.all([waitExit(http.child), stdio.close()]);
  const bounded = await boundedCheck(ctx, tokens, maxClients, quick ? 3 : 10);
  ctx.log(
    `http bounded-memory check: heap capped at ${bounded.heapCapMiB} MiB, ${bounded.calls} calls in ${bounded.seconds} s from ${maxClients} clients, ` +
      `${bounded.errors} errors, ${bounded.alive ? 'alive' : 'DIED'}, RSS ${(bounded.rssEnd / 2 ** 20).toFixed(0)} MiB`,
  );
  return {
    bounded,
    seconds,
    levels,
    rounds,
    stdioCallsPerSecond: spread(rounds.map((r) => r.stdio.callsPerSecond)),
    stdioP99: spread(rounds.map((r) => r.stdio.latency.p99)),
    summary: levels.map((n, k) => ({
      clients: n,
      callsPerSecond: spread(rounds.map((r) => r.http[k]!.callsPerSecond)),
      p50: spread(rounds.map((r) => r.http[k]!.latency.p50)),
      p99: spread(rounds.map((r) => r.http[k]!.latency.p99)),
      ratioToStdio: spread(rounds.map((r) => r.http[k]!.callsPerSecond / r.stdio.callsPerSecond)),
      errors: rounds.reduce((a, r) => a + r.http[k]!.errors, 0),
      peakRss: spread(rounds.map((r) => r.http[k]!.peakRss)),
    })),
    rssBefore,
    rssAfterClose,
    totalErrors: rounds.reduce((a, r) => a + r.http.reduce((b, l) => b + l.errors, 0), 0),
  };
}
