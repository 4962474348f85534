/**
 * Scaling curves: how the cost of an operation grows with
 *   topics         1k .. 1M known topics (1 message each): read/get_latest/list over all, one
 *                  exact topic, and store.append at steady state
 *   store          1k topics with 10 .. 1,000 messages each (10k .. 1M messages)
 *   payload        10 B .. 1 MB: mqtt_publish over stdio against bare publishAsync and the
 *                  minimal server, and the read tool's handler over 500 stored messages
 *   depth          1,000 topics 2 .. 64 levels deep; filters '#', one '+' then literals, all '+'
 *   HTTP sessions  (from the HTTP case)
 * The store and tool curves are measured in-process (bench/workers/tools.ts, one fresh process
 * per point); publish through the real stdio path. Each curve also gets a growth exponent
 * between its first and last point: 0 flat, 1 linear.
 */
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, connectMqtt, minimalEnv } from '../lib/context.js';
import { jsonPayload } from '../lib/payload.js';
import { runWorker } from '../lib/proc.js';
import { startBridge, startMinimal } from '../lib/servers.js';
import { growthExponent, median } from '../lib/stats.js';
import type { OpResult, ToolsJob } from '../workers/tools.js';

export interface CurvePoint {
  readonly x: number;
  readonly y: number;
}

export interface Curve {
  readonly name: string;
  readonly unit: string;
  readonly points: CurvePoint[];
  /** Growth exponent first -> last point (0 flat, 1 linear). */
  readonly exponent: number;
  /** What the design says the curve should be. */
  readonly expected: 'flat' | 'linear';
}

export interface ScalingResult {
  readonly topics: { xLabel: string; curves: Curve[]; memoryPerTopic: CurvePoint[] };
  readonly store: { xLabel: string; curves: Curve[]; memoryPerMessage: CurvePoint[] };
  readonly payload: { xLabel: string; curves: Curve[] };
  readonly depth: { xLabel: string; curves: Curve[] };
}

function curve(name: string, unit: string, points: CurvePoint[], expected: 'flat' | 'linear'): Curve {
  const first = points[0];
  const last = points[points.length - 1];
  const exponent =
    first !== undefined && last !== undefined && first.x !== last.x
      ? growthExponent(first.x, first.y, last.x, last.y)
      : NaN;
  return { name, unit, points, exponent, expected };
}

async function tools(job: ToolsJob): Promise<Record<string, any>> {
  return runWorker('bench/workers/tools.ts', [JSON.stringify(job)], {
    nodeArgs: ['--expose-gc', '--max-old-space-size=8192'],
    timeoutMs: 600_000,
  });
}

const p50 = (r: Record<string, any>, name: string, layer: string) =>
  (r.results as OpResult[]).find((x) => x.name === name && x.layer === layer)?.latency.p50 ?? NaN;

async function topicsCurve(ctx: BenchContext): Promise<ScalingResult['topics']> {
  const xs = ctx.options.quick ? [1000, 10_000, 30_000] : [1000, 10_000, 100_000, 1_000_000];
  const series: Record<string, CurvePoint[]> = {};
  const add = (k: string, x: number, y: number) => (series[k] ??= []).push({ x, y });
  const memory: CurvePoint[] = [];
  for (const t of xs) {
    const r = await tools({
      fill: { topics: t, perTopic: 1, payloadBytes: 60, scheme: 'flat', prefix: 'bench' },
      ops: [
        {
          name: 'read #',
          tool: 'mqtt_read_messages',
          args: { filter: 'bench/#' },
          layers: ['store', 'handler'],
        },
        { name: 'latest #', tool: 'mqtt_get_latest', args: { filter: 'bench/#' }, layers: ['store'] },
        { name: 'list', tool: 'mqtt_list_topics', args: {}, layers: ['store', 'handler'] },
        { name: 'read one', tool: 'mqtt_read_messages', args: { filter: 'bench/t7' }, layers: ['handler'] },
      ],
      budgetMs: ctx.options.quick ? 80 : 500,
      minIters: t >= 1_000_000 ? 5 : ctx.options.quick ? 8 : 15,
      appendRate: true,
    });
    add('mqtt_read_messages bench/# (store)', t, p50(r, 'read #', 'store'));
    add('mqtt_read_messages bench/# (handler)', t, p50(r, 'read #', 'handler'));
    add('mqtt_get_latest bench/# (store)', t, p50(r, 'latest #', 'store'));
    add('mqtt_list_topics, no filter (store)', t, p50(r, 'list', 'store'));
    add('mqtt_list_topics, no filter (handler)', t, p50(r, 'list', 'handler'));
    add('mqtt_read_messages one topic (handler)', t, p50(r, 'read one', 'handler'));
    add('store.append per message (µs)', t, Number(r.appendNsPerMessage) / 1000);
    memory.push({ x: t, y: Number(r.rssBytesPerMessage) });
    ctx.log(
      `scaling topics ${t}: list ${p50(r, 'list', 'handler').toFixed(2)} ms, read # ${p50(r, 'read #', 'handler').toFixed(2)} ms, append ${(Number(r.appendNsPerMessage) / 1000).toFixed(2)} µs`,
    );
  }
  // By design every read here is bounded by its limit, not by the topics it matches: broad
  // `prefix/#` reads and last-known values scan newest first, listings stop at the limit and
  // count from subtree counters.
  const linear = new Set<string>();
  return {
    xLabel: 'known topics',
    curves: Object.entries(series).map(([name, points]) =>
      curve(name, name.includes('µs') ? 'µs' : 'ms', points, linear.has(name) ? 'linear' : 'flat'),
    ),
    memoryPerTopic: memory,
  };
}

async function storeCurve(ctx: BenchContext): Promise<ScalingResult['store']> {
  const per = ctx.options.quick ? [10, 100] : [10, 100, 1000];
  const series: Record<string, CurvePoint[]> = {};
  const add = (k: string, x: number, y: number) => (series[k] ??= []).push({ x, y });
  const memory: CurvePoint[] = [];
  for (const n of per) {
    const messages = 1000 * n;
    const r = await tools({
      fill: { topics: 1000, perTopic: n, payloadBytes: 60, scheme: 'flat', prefix: 'bench' },
      ops: [
        {
          name: 'read #',
          tool: 'mqtt_read_messages',
          args: { filter: 'bench/#' },
          layers: ['store', 'handler'],
        },
        {
          name: 'read one',
          tool: 'mqtt_read_messages',
          args: { filter: 'bench/t7' },
          layers: ['store', 'handler'],
        },
        {
          name: 'read one since',
          tool: 'mqtt_read_messages',
          args: { filter: 'bench/t7', sinceSeconds: 60 },
          layers: ['handler'],
        },
        { name: 'latest #', tool: 'mqtt_get_latest', args: { filter: 'bench/#' }, layers: ['handler'] },
      ],
      budgetMs: ctx.options.quick ? 80 : 500,
      minIters: ctx.options.quick ? 8 : 15,
      appendRate: true,
    });
    add('mqtt_read_messages bench/# (handler)', messages, p50(r, 'read #', 'handler'));
    add('mqtt_read_messages one topic (handler)', messages, p50(r, 'read one', 'handler'));
    add(
      'mqtt_read_messages one topic, sinceSeconds 60 (handler)',
      messages,
      p50(r, 'read one since', 'handler'),
    );
    add('mqtt_get_latest bench/# (handler)', messages, p50(r, 'latest #', 'handler'));
    add('store.append per message (µs)', messages, Number(r.appendNsPerMessage) / 1000);
    memory.push({ x: messages, y: Number(r.rssBytesPerMessage) });
    ctx.log(
      `scaling store ${messages}: read # ${p50(r, 'read #', 'handler').toFixed(3)} ms, read one ${p50(r, 'read one', 'handler').toFixed(3)} ms, append ${(Number(r.appendNsPerMessage) / 1000).toFixed(2)} µs`,
    );
  }
  return {
    xLabel: 'stored messages (1,000 topics)',
    curves: Object.entries(series).map(([name, points]) =>
      curve(name, name.includes('µs') ? 'µs' : 'ms', points, 'flat'),
    ),
    memoryPerMessage: memory,
  };
}

async function payloadCurve(ctx: BenchContext): Promise<ScalingResult['payload']> {
  const sizes = ctx.options.quick ? [10, 1000, 100_000] : [10, 100, 1000, 10_000, 100_000, 1_000_000];
  const calls = ctx.options.quick ? 10 : 60;
  const series: Record<string, CurvePoint[]> = {};
  const add = (k: string, x: number, y: number) => (series[k] ??= []).push({ x, y });
  const big = String(4 * 1024 * 1024);
  const bridge = await startBridge(
    bridgeEnv(ctx, {
      MCP_READ_TOPICS: 'bench/#',
      MCP_WRITE_TOPICS: 'bench/#',
      MQTT_SUBSCRIBE: 'bench/size/bridge/#',
      MCP_PUBLISH_MAX_BYTES: big,
      MQTT_MAX_PACKET_BYTES: big,
      MCP_HTTP_MAX_BODY_BYTES: big,
    }),
  );
  const minimal = await startMinimal(minimalEnv(ctx, { MIN_SUBSCRIBE: 'bench/size/min/#' }));
  const bare = await connectMqtt(ctx, { nodelay: true });
  await bare.subscribeAsync('bench/size/bare/#', { qos: 1 });
  try {
    for (const size of sizes) {
      const payload = jsonPayload(size);
      const t = { bare: [] as number[], bridge: [] as number[], minimal: [] as number[] };
      for (let i = 0; i < calls + 5; i++) {
        let s = performance.now();
        await bare.publishAsync('bench/size/bare/x', payload, { qos: 1 });
        const a = performance.now() - s;
        s = performance.now();
        const r = await bridge.callTool('mqtt_publish', { topic: 'bench/size/bridge/x', payload, qos: 1 });
        const b = performance.now() - s;
        if (r.line.includes('"isError":true')) throw new Error(`publish ${size} B: ${r.line.slice(0, 300)}`);
        s = performance.now();
        await minimal.callTool('publish', { topic: 'bench/size/min/x', payload, qos: 1 });
        const c = performance.now() - s;
        if (i >= 5) {
          t.bare.push(a);
          t.bridge.push(b);
          t.minimal.push(c);
        }
      }
      add('bare mqtt.js publishAsync', size, median(t.bare));
      add('minimal SDK server over stdio', size, median(t.minimal));
      add('bridge mqtt_publish over stdio', size, median(t.bridge));
      add('bridge - minimal (the bridge\u2019s own cost)', size, median(t.bridge) - median(t.minimal));
      ctx.log(
        `scaling payload ${size} B: publish p50 bare ${median(t.bare).toFixed(2)} / minimal ${median(t.minimal).toFixed(2)} / bridge ${median(t.bridge).toFixed(2)} ms`,
      );
    }
  } finally {
    await Promise.all([bridge.close(), minimal.close(), bare.endAsync()]);
  }
  for (const size of sizes) {
    const r = await tools({
      fill: { topics: 100, perTopic: 5, payloadBytes: size, scheme: 'flat', prefix: 'bench' },
      env: { STORE_MAX_PAYLOAD_BYTES: String(2 * 1024 * 1024) },
      ops: [{ name: 'read #', tool: 'mqtt_read_messages', args: { filter: 'bench/#' }, layers: ['handler'] }],
      budgetMs: ctx.options.quick ? 60 : 300,
      minIters: ctx.options.quick ? 5 : 10,
      appendRate: true,
    });
    add('mqtt_read_messages bench/# limit 20 (handler)', size, p50(r, 'read #', 'handler'));
    add('store.append per message (µs)', size, Number(r.appendNsPerMessage) / 1000);
  }
  const expected = (name: string): 'flat' | 'linear' =>
    name.startsWith('mqtt_read_messages') ? 'flat' : 'linear';
  return {
    xLabel: 'payload bytes',
    curves: Object.entries(series).map(([name, points]) =>
      curve(name, name.includes('µs') ? 'µs' : 'ms', points, expected(name)),
    ),
  };
}

async function depthCurve(ctx: BenchContext): Promise<ScalingResult['depth']> {
  const depths = ctx.options.quick ? [2, 8, 32] : [2, 4, 8, 16, 32, 64];
  const series: Record<string, CurvePoint[]> = {};
  const add = (k: string, x: number, y: number) => (series[k] ??= []).push({ x, y });
  for (const d of depths) {
    // Topics bench/<i>/a/.../a with d levels in all.
    const tail = '/a'.repeat(Math.max(0, d - 2));
    const plusAll = ['bench', ...Array.from({ length: d - 1 }, () => '+')].join('/');
    const r = await tools({
      fill: { topics: 1000, perTopic: 1, payloadBytes: 60, scheme: 'deep', depth: d, prefix: 'bench' },
      ops: [
        { name: '#', tool: 'mqtt_read_messages', args: { filter: 'bench/#' }, layers: ['store', 'handler'] },
        {
          name: 'one +',
          tool: 'mqtt_read_messages',
          args: { filter: `bench/+${tail}` },
          layers: ['store', 'handler'],
        },
        {
          name: 'all +',
          tool: 'mqtt_read_messages',
          args: { filter: plusAll },
          layers: ['store', 'handler'],
        },
        {
          name: 'exact',
          tool: 'mqtt_read_messages',
          args: { filter: `bench/7${tail}` },
          layers: ['handler'],
        },
      ],
      budgetMs: ctx.options.quick ? 60 : 300,
      minIters: ctx.options.quick ? 8 : 15,
    });
    add('bench/# (store)', d, p50(r, '#', 'store'));
    add('bench/+/a/../a (store)', d, p50(r, 'one +', 'store'));
    add('bench/+/+/../+ (store)', d, p50(r, 'all +', 'store'));
    add('bench/# (handler)', d, p50(r, '#', 'handler'));
    add('bench/+/+/../+ (handler)', d, p50(r, 'all +', 'handler'));
    add('exact topic (handler)', d, p50(r, 'exact', 'handler'));
    ctx.log(
      `scaling depth ${d}: # ${p50(r, '#', 'store').toFixed(3)} ms, all + ${p50(r, 'all +', 'store').toFixed(3)} ms (store)`,
    );
  }
  return {
    xLabel: 'topic levels (1,000 topics)',
    curves: Object.entries(series).map(([name, points]) => curve(name, 'ms', points, 'linear')),
  };
}

export async function runScaling(ctx: BenchContext): Promise<ScalingResult> {
  const topics = await topicsCurve(ctx);
  const store = await storeCurve(ctx);
  const payload = await payloadCurve(ctx);
  const depth = await depthCurve(ctx);
  return { topics, store, payload, depth };
}
