/**
 * CPU profiles (node --cpu-prof) of the spawned bridge in the situations where a target is at
 * stake, cut to the phase that matters with the profile's monotonic timestamps:
 *   publish      mqtt_publish calls over stdio (and publish-minimal: the minimal server, same calls)
 *   read-all     mqtt_read_messages bench/# over 100k messages in 10k topics
 *   read-narrow  mqtt_read_messages bench/+/d42/+ on the same store
 *   list         mqtt_list_topics (no filter) over 100k topics
 *   http         10 concurrent Streamable HTTP clients calling read tools
 *   startup      spawn to tools/list answered
 *   ingest       the in-process ingest worker during a 200k flood (bridge, bridge recording
 *                into SQLite history, and bare)
 * The summaries (time per area, top functions by self and inclusive time) go into the report.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, connectMqtt, minimalEnv, publishFlood, SERVER } from '../lib/context.js';
import { TYPICAL_PAYLOAD } from '../lib/payload.js';
import { jsonLines, sleep, tsxWorker, waitExit } from '../lib/proc.js';
import { loadProfile, monotonicMicros, summarizeProfile, type ProfileSummary } from '../lib/profile.js';
import { HttpRpc, spawnStdio, type StdioRpc } from '../lib/rpc.js';
import { CALLS, closedLoop, startHttpBridge } from './http.js';
import { startBridge, startMinimal, waitForStore } from '../lib/servers.js';

export interface ProfileResult {
  readonly scenarios: Array<{ name: string; calls?: number; summary: ProfileSummary }>;
}

function profDir(): string {
  return mkdtempSync(join(tmpdir(), 'mqtt-mcp-bench-prof-'));
}

const PROF_ARGS = (dir: string) => ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=200'];

async function window<T>(run: () => Promise<T>): Promise<{ from: number; to: number }> {
  const from = monotonicMicros();
  await run();
  return { from, to: monotonicMicros() };
}

async function repeat(n: number, call: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i++) await call();
}

async function filledBridge(
  ctx: BenchContext,
  dir: string,
  env: Record<string, string>,
  flood: { count: number; topics: number; prefix: string; scheme: string },
  want: { messages: number; topics: number },
): Promise<StdioRpc> {
  const bridge = await startBridge(bridgeEnv(ctx, env), PROF_ARGS(dir));
  await publishFlood(ctx, flood);
  await waitForStore(bridge, want);
  return bridge;
}

export async function runProfile(ctx: BenchContext): Promise<ProfileResult> {
  const scenarios: ProfileResult['scenarios'] = [];
  const quick = ctx.options.quick;
  // BENCH_PROFILE_ONLY=ingest,read: only these scenarios (publish, read, list, http, startup, ingest).
  const only = process.env.BENCH_PROFILE_ONLY?.split(',').map((s) => s.trim());
  const want = (name: string) => only === undefined || only.includes(name);

  // publish
  if (want('publish')) {
    const dir = profDir();
    const bridge = await startBridge(
      bridgeEnv(ctx, {
        MCP_READ_TOPICS: 'bench/#',
        MCP_WRITE_TOPICS: 'bench/#',
        MQTT_SUBSCRIBE: 'bench/prof/#',
      }),
      PROF_ARGS(dir),
    );
    const call = () =>
      bridge.callTool('mqtt_publish', { topic: 'bench/prof/lat', payload: TYPICAL_PAYLOAD, qos: 1 });
    await repeat(200, call);
    const calls = quick ? 500 : 3000;
    const w = await window(() => repeat(calls, call));
    await bridge.close();
    scenarios.push({
      name: 'publish',
      calls,
      summary: summarizeProfile(loadProfile(dir), { fromMicros: w.from, toMicros: w.to }),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log(`profiled publish (${calls} calls)`);
  }

  // the same publishes through the minimal SDK server: its CPU per call is what MCP costs anyway
  if (want('publish')) {
    const dir = profDir();
    const minimal = await startMinimal(minimalEnv(ctx, { MIN_SUBSCRIBE: 'bench/profmin/#' }), PROF_ARGS(dir));
    const call = () =>
      minimal.callTool('publish', { topic: 'bench/profmin/lat', payload: TYPICAL_PAYLOAD, qos: 1 });
    await repeat(200, call);
    const calls = quick ? 500 : 3000;
    const w = await window(() => repeat(calls, call));
    await minimal.close();
    scenarios.push({
      name: 'publish-minimal',
      calls,
      summary: summarizeProfile(loadProfile(dir), { fromMicros: w.from, toMicros: w.to }),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log(`profiled the minimal server's publish (${calls} calls)`);
  }

  // read
  if (want('read')) {
    const dir = profDir();
    const bridge = await filledBridge(
      ctx,
      dir,
      { MCP_READ_TOPICS: 'bench/#', MQTT_SUBSCRIBE: 'bench/#', STORE_MAX_MESSAGES_PER_TOPIC: '10' },
      { count: 120_000, topics: 10_000, prefix: 'bench', scheme: 'tree' },
      { messages: 100_000, topics: 10_000 },
    );
    const all = () => bridge.callTool('mqtt_read_messages', { filter: 'bench/#' });
    const narrow = () => bridge.callTool('mqtt_read_messages', { filter: 'bench/+/d42/+' });
    await repeat(50, all);
    await repeat(200, narrow);
    const nAll = quick ? 100 : 500;
    const nNarrow = quick ? 500 : 3000;
    const wAll = await window(() => repeat(nAll, all));
    const wNarrow = await window(() => repeat(nNarrow, narrow));
    await bridge.close();
    const profile = loadProfile(dir);
    scenarios.push({
      name: 'read-all',
      calls: nAll,
      summary: summarizeProfile(profile, { fromMicros: wAll.from, toMicros: wAll.to }),
    });
    scenarios.push({
      name: 'read-narrow',
      calls: nNarrow,
      summary: summarizeProfile(profile, { fromMicros: wNarrow.from, toMicros: wNarrow.to }),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log('profiled read');
  }

  // list
  if (want('list')) {
    const dir = profDir();
    const bridge = await filledBridge(
      ctx,
      dir,
      { MCP_READ_TOPICS: 'bench/#', MQTT_SUBSCRIBE: 'bench/#', STORE_MAX_TOPICS: '100000' },
      { count: 100_000, topics: 100_000, prefix: 'bench/list', scheme: 'flat' },
      { messages: 100_000, topics: 100_000 },
    );
    const list = () => bridge.callTool('mqtt_list_topics', {});
    await repeat(20, list);
    const n = quick ? 30 : 150;
    const w = await window(() => repeat(n, list));
    await bridge.close();
    scenarios.push({
      name: 'list',
      calls: n,
      summary: summarizeProfile(loadProfile(dir), { fromMicros: w.from, toMicros: w.to }),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log('profiled list');
  }

  // HTTP: 10 concurrent clients calling read tools
  if (want('http')) {
    const dir = profDir();
    const tokens = Array.from({ length: 10 }, () => randomBytes(32).toString('hex'));
    const http = await startHttpBridge(ctx, tokens, PROF_ARGS(dir));
    await publishFlood(ctx, { count: 10_000, topics: 1000, prefix: 'bench', scheme: 'tree' });
    await sleep(1500);
    const clients = tokens.map((t) => new HttpRpc(http.port, t));
    for (const c of clients) await c.initialize();
    const loop = (seconds: number) =>
      closedLoop(seconds, clients.length, (w, i) => {
        const c = CALLS[(i + w) % CALLS.length]!;
        return clients[w]!.callTool(c.tool, c.args);
      });
    await loop(0.5);
    let calls = 0;
    const w = await window(async () => {
      calls = (await loop(quick ? 1 : 3)).times.length;
    });
    for (const c of clients) await c.close();
    http.child.kill('SIGTERM');
    await waitExit(http.child);
    scenarios.push({
      name: 'http',
      calls,
      summary: summarizeProfile(loadProfile(dir), { fromMicros: w.from, toMicros: w.to }),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log('profiled HTTP');
  }

  // startup
  if (want('startup')) {
    const dir = profDir();
    const from = monotonicMicros();
    const rpc = spawnStdio(SERVER, bridgeEnv(ctx, { MCP_READ_TOPICS: 'bench/#' }), PROF_ARGS(dir));
    await rpc.initialize();
    await rpc.request('tools/list');
    const to = monotonicMicros();
    await rpc.close();
    scenarios.push({
      name: 'startup',
      summary: summarizeProfile(loadProfile(dir), { fromMicros: from, toMicros: to }, 25),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log('profiled start-up');
  }

  // ingest (in-process worker), bridge and bare
  for (const mode of want('ingest') ? (['bridge', 'history', 'bare'] as const) : []) {
    const dir = profDir();
    const count = quick ? 50_000 : 200_000;
    const spy = await connectMqtt(ctx, { identity: 'spy' });
    await spy.publishAsync('bench/ready', 'ready', { qos: 1, retain: true });
    const child = tsxWorker('bench/workers/ingest.ts', [mode, ctx.broker.url, ctx.pki.dir, String(count)], {
      nodeArgs: PROF_ARGS(dir),
    });
    let from = 0;
    let to = 0;
    await new Promise<void>((resolve, reject) => {
      jsonLines(child, (m) => {
        if (m.ready === true) {
          from = monotonicMicros();
          void publishFlood(ctx, { count, topics: 1000 });
        }
        if (m.done === true) to = monotonicMicros();
      });
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`ingest worker exited ${code}`)),
      );
    });
    await spy.publishAsync('bench/ready', '', { qos: 1, retain: true });
    await spy.endAsync();
    scenarios.push({
      name: `ingest-${mode}`,
      calls: count,
      summary: summarizeProfile(loadProfile(dir), { fromMicros: from, toMicros: to }),
    });
    rmSync(dir, { recursive: true, force: true });
    ctx.log(`profiled ingest (${mode})`);
  }
  return { scenarios };
}
