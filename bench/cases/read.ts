/**
 * The read tools over a large store, measured two ways:
 * - in-process (bench/workers/tools.ts): the store filled through store.append(), each call
 *   timed at the store, at the bridge's tool boundary (handler) and through the SDK server over
 *   an in-memory transport, alternating with a minimal McpServer's no-op tool;
 * - through the real MCP path: dist/index.js over stdio with its store filled over MQTT by a
 *   flood, alternating call by call with the minimal SDK server's no-op tool over stdio.
 * read:  100,000 messages in 10,000 topics (bench/s<0-9>/d<0-99>/m<0-9>, 10 per topic)
 * list:  100,000 topics with one message each (bench/list/t<i>)
 */
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, minimalEnv, publishFlood } from '../lib/context.js';
import { runWorker } from '../lib/proc.js';
import type { StdioRpc } from '../lib/rpc.js';
import { startBridge, startMinimal, waitForStore } from '../lib/servers.js';
import { latency, spread, type LatencySummary, type Spread } from '../lib/stats.js';
import type { OpResult, ToolsJob } from '../workers/tools.js';

export interface Op {
  readonly name: string;
  readonly tool: string;
  readonly args: Record<string, unknown>;
  /** Topics the filter matches. */
  readonly matches: number;
}

export interface StdioOpResult {
  readonly op: Op;
  readonly rounds: Array<{ bridge: LatencySummary; noop: LatencySummary }>;
  readonly p50: Spread;
  readonly p99: Spread;
  readonly noopP50: Spread;
  readonly overheadP50: Spread;
  readonly overheadP99: Spread;
  readonly ratioP50: Spread;
  readonly wireBytes: number;
}

export interface ReadCaseResult {
  readonly store: { messages: number; topics: number };
  readonly inProcess: {
    rounds: OpResult[][];
    summary: Array<{
      name: string;
      layer: string;
      p50: Spread;
      p99: Spread;
      noopP50?: Spread;
      overheadP50?: Spread;
    }>;
  };
  readonly stdio: StdioOpResult[];
  readonly fill: Record<string, any>;
}

export const READ_OPS: Op[] = [
  {
    name: 'read bench/# (all 10k topics)',
    tool: 'mqtt_read_messages',
    args: { filter: 'bench/#' },
    matches: 10_000,
  },
  {
    name: 'read bench/s3/# (1k topics)',
    tool: 'mqtt_read_messages',
    args: { filter: 'bench/s3/#' },
    matches: 1000,
  },
  {
    name: 'read bench/+/d42/+ (10 topics)',
    tool: 'mqtt_read_messages',
    args: { filter: 'bench/+/d42/+' },
    matches: 10,
  },
  {
    name: 'read bench/s3/d42/m1 (1 topic, no wildcard)',
    tool: 'mqtt_read_messages',
    args: { filter: 'bench/s3/d42/m1' },
    matches: 1,
  },
  {
    name: 'get_latest bench/+/d42/+ (10 topics)',
    tool: 'mqtt_get_latest',
    args: { filter: 'bench/+/d42/+' },
    matches: 10,
  },
  {
    name: 'get_latest bench/# (all 10k topics)',
    tool: 'mqtt_get_latest',
    args: { filter: 'bench/#' },
    matches: 10_000,
  },
];

export const LIST_OPS: Op[] = [
  { name: 'list (no filter, 100k topics, limit 100)', tool: 'mqtt_list_topics', args: {}, matches: 100_000 },
  {
    name: 'list bench/# limit 1000',
    tool: 'mqtt_list_topics',
    args: { filter: 'bench/#', limit: 1000 },
    matches: 100_000,
  },
  {
    name: 'list bench/list/t4242 (1 topic)',
    tool: 'mqtt_list_topics',
    args: { filter: 'bench/list/t4242' },
    matches: 1,
  },
];

async function inProcess(
  ctx: BenchContext,
  fill: ToolsJob['fill'],
  ops: Op[],
): Promise<ReadCaseResult['inProcess']> {
  const rounds: OpResult[][] = [];
  for (let round = 0; round < ctx.options.rounds; round++) {
    const job: ToolsJob = {
      fill,
      ops: ops.map((op) => ({
        name: op.name,
        tool: op.tool,
        args: op.args,
        layers: ['store', 'handler', 'mcp'],
      })),
      budgetMs: ctx.options.quick ? 100 : 800,
      minIters: 20,
    };
    const r = await runWorker('bench/workers/tools.ts', [JSON.stringify(job)], {
      nodeArgs: ['--expose-gc', '--max-old-space-size=4096'],
    });
    rounds.push(r.results as OpResult[]);
  }
  const summary: ReadCaseResult['inProcess']['summary'] = [];
  for (let i = 0; i < (rounds[0]?.length ?? 0); i++) {
    const per = rounds.map((r) => r[i] as OpResult);
    const first = per[0] as OpResult;
    summary.push({
      name: first.name,
      layer: first.layer,
      p50: spread(per.map((x) => x.latency.p50)),
      p99: spread(per.map((x) => x.latency.p99)),
      ...(first.noop !== undefined
        ? {
            noopP50: spread(per.map((x) => x.noop?.p50 ?? NaN)),
            overheadP50: spread(per.map((x) => x.latency.p50 - (x.noop?.p50 ?? NaN))),
          }
        : {}),
    });
  }
  return { rounds, summary };
}

export async function stdioOps(
  ctx: BenchContext,
  bridge: StdioRpc,
  minimal: StdioRpc,
  ops: Op[],
): Promise<StdioOpResult[]> {
  const calls = ctx.options.quick ? 30 : 200;
  const out: StdioOpResult[] = [];
  for (const op of ops) {
    const rounds: StdioOpResult['rounds'] = [];
    let wireBytes = 0;
    const noopArgs = { filter: typeof op.args.filter === 'string' ? op.args.filter : '#', limit: 20 };
    for (let round = 0; round < ctx.options.rounds; round++) {
      const b: number[] = [];
      const n: number[] = [];
      for (let i = 0; i < calls + 20; i++) {
        let t = performance.now();
        const r = await bridge.callTool(op.tool, op.args);
        const db = performance.now() - t;
        if (r.line.includes('"isError":true')) throw new Error(`${op.name}: ${r.line.slice(0, 300)}`);
        wireBytes = r.bytes;
        t = performance.now();
        await minimal.callTool('noop', noopArgs);
        const dn = performance.now() - t;
        if (i >= 20) {
          b.push(db);
          n.push(dn);
        }
      }
      rounds.push({ bridge: latency(b), noop: latency(n) });
    }
    const s = (f: (r: StdioOpResult['rounds'][number]) => number) => spread(rounds.map(f));
    const res: StdioOpResult = {
      op,
      rounds,
      p50: s((r) => r.bridge.p50),
      p99: s((r) => r.bridge.p99),
      noopP50: s((r) => r.noop.p50),
      overheadP50: s((r) => r.bridge.p50 - r.noop.p50),
      overheadP99: s((r) => r.bridge.p99 - r.noop.p99),
      ratioP50: s((r) => r.bridge.p50 / r.noop.p50),
      wireBytes,
    };
    out.push(res);
    ctx.log(
      `${op.name} over stdio: p50 ${res.p50.median.toFixed(3)} ms, p99 ${res.p99.median.toFixed(2)} ms, no-op p50 ${res.noopP50.median.toFixed(3)} ms, ` +
        `overhead p50 ${res.overheadP50.median.toFixed(3)} ms [${res.overheadP50.min.toFixed(3)}..${res.overheadP50.max.toFixed(3)}]`,
    );
  }
  return out;
}

async function floodBridge(
  ctx: BenchContext,
  env: Record<string, string>,
  flood: { count: number; topics: number; prefix: string; scheme: 'flat' | 'tree' },
  want: { messages: number; topics: number },
): Promise<{ bridge: StdioRpc; store: Record<string, any> }> {
  const bridge = await startBridge(bridgeEnv(ctx, env));
  const published = await publishFlood(ctx, flood);
  const store = await waitForStore(bridge, want);
  ctx.log(
    `filled the bridge over MQTT: ${store.messages} messages in ${store.topics} topics (${Math.round(Number(published.rate))} msg/s published)`,
  );
  if (store.topics < want.topics || store.messages < want.messages) {
    throw new Error(`store fill incomplete: ${JSON.stringify(store)}`);
  }
  return { bridge, store };
}

export async function runRead(ctx: BenchContext): Promise<ReadCaseResult> {
  ctx.log('read: in-process (store, handler, in-memory MCP)');
  const inProc = await inProcess(
    ctx,
    { topics: 10_000, perTopic: 10, payloadBytes: 60, scheme: 'tree' },
    READ_OPS,
  );
  for (const s of inProc.summary) {
    ctx.log(
      `  ${s.name} [${s.layer}]: p50 ${s.p50.median.toFixed(3)} ms, p99 ${s.p99.median.toFixed(3)} ms${s.overheadP50 !== undefined ? `, over no-op ${s.overheadP50.median.toFixed(3)} ms` : ''}`,
    );
  }
  ctx.log('read: stdio (dist/index.js filled over MQTT)');
  const { bridge, store } = await floodBridge(
    ctx,
    { MCP_READ_TOPICS: 'bench/#', MQTT_SUBSCRIBE: 'bench/#', STORE_MAX_MESSAGES_PER_TOPIC: '10' },
    { count: 120_000, topics: 10_000, prefix: 'bench', scheme: 'tree' },
    { messages: 100_000, topics: 10_000 },
  );
  const minimal = await startMinimal(minimalEnv(ctx));
  try {
    const stdio = await stdioOps(ctx, bridge, minimal, READ_OPS);
    return {
      store: { messages: store.messages, topics: store.topics },
      inProcess: inProc,
      stdio,
      fill: store,
    };
  } finally {
    await Promise.all([bridge.close(), minimal.close()]);
  }
}

export async function runList(ctx: BenchContext): Promise<ReadCaseResult> {
  ctx.log('list: in-process (store, handler, in-memory MCP)');
  const inProc = await inProcess(
    ctx,
    { topics: 100_000, perTopic: 1, payloadBytes: 60, scheme: 'flat', prefix: 'bench/list' },
    LIST_OPS,
  );
  for (const s of inProc.summary) {
    ctx.log(`  ${s.name} [${s.layer}]: p50 ${s.p50.median.toFixed(3)} ms, p99 ${s.p99.median.toFixed(3)} ms`);
  }
  ctx.log('list: stdio (dist/index.js filled over MQTT)');
  const { bridge, store } = await floodBridge(
    ctx,
    { MCP_READ_TOPICS: 'bench/#', MQTT_SUBSCRIBE: 'bench/#', STORE_MAX_TOPICS: '100000' },
    { count: 100_000, topics: 100_000, prefix: 'bench/list', scheme: 'flat' },
    { messages: 100_000, topics: 100_000 },
  );
  const minimal = await startMinimal(minimalEnv(ctx));
  try {
    const stdio = await stdioOps(ctx, bridge, minimal, LIST_OPS);
    return {
      store: { messages: store.messages, topics: store.topics },
      inProcess: inProc,
      stdio,
      fill: store,
    };
  } finally {
    await Promise.all([bridge.close(), minimal.close()]);
  }
}
