/**
 * In-process measurements of the store and the read tools, in a process of their own: the same
 * createApp() the binary builds (never connected: nothing is started), its store filled
 * directly through store.append(), then each operation timed at three layers:
 *   store    the store call alone (query / latest / topics)
 *   handler  zod input parsing + runTool(): the bridge's tool boundary (views, neutralising,
 *            suspicious-pattern scan, JSON, framing) without the SDK
 *   mcp      a JSON-RPC tools/call through the SDK's McpServer over an in-memory transport,
 *            response serialised to JSON as a transport would; alternating call by call with
 *            the same request to a minimal McpServer's no-op tool in the same process.
 * Usage: tsx bench/workers/tools.ts '<json job>'; prints one JSON line {"done":true,...}.
 */
import { Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createAuditLog } from '../../src/logging/audit.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { createServer } from '../../src/server.js';
import { runTool } from '../../src/tools/define.js';
import { ALL_TOOLS } from '../../src/tools/index.js';
import { jsonPayload, topicName, type TopicScheme } from '../lib/payload.js';
import { latency, type LatencySummary } from '../lib/stats.js';

export interface ToolsJob {
  readonly fill: {
    readonly topics: number;
    readonly perTopic: number;
    readonly payloadBytes: number;
    readonly scheme: TopicScheme | 'deep';
    /** For scheme 'deep': levels per topic. */
    readonly depth?: number;
    readonly prefix?: string;
  };
  readonly env?: Record<string, string>;
  readonly ops: ReadonlyArray<{
    readonly name: string;
    readonly tool: string;
    readonly args: Record<string, unknown>;
    readonly layers: ReadonlyArray<'store' | 'handler' | 'mcp'>;
  }>;
  /** Time budget per op and layer, ms (at least minIters calls). */
  readonly budgetMs?: number;
  readonly minIters?: number;
  readonly maxIters?: number;
  /** Also time steady-state store.append over the filled store. */
  readonly appendRate?: boolean;
}

export interface OpResult {
  readonly name: string;
  readonly layer: 'store' | 'handler' | 'mcp';
  readonly latency: LatencySummary;
  /** mcp layer: the no-op tool of a minimal McpServer, alternated call by call. */
  readonly noop?: LatencySummary;
  /** Tool text bytes (handler/mcp) of the last call. */
  readonly textBytes?: number;
  readonly wireBytes?: number;
  readonly items?: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ToolsJob;
const send = (m: Record<string, unknown>) => process.stdout.write(JSON.stringify(m) + '\n');

const sink = new Writable({ write: (_c, _e, done) => done() });
const config = loadConfig(
  {
    MQTT_URL: 'mqtts://127.0.0.1:1',
    MCP_READ_TOPICS: '#',
    LOG_LEVEL: 'warn',
    MCP_TOOL_RATE_PER_MINUTE: '1000000',
    MCP_PUBLISH_RATE_PER_MINUTE: '1000000',
    STORE_MAX_TOPICS: String(Math.max(10_000, job.fill.topics + 10)),
    STORE_MAX_MESSAGES_PER_TOPIC: String(Math.max(100, job.fill.perTopic)),
    STORE_MAX_BYTES: String(64 * 2 ** 30),
    ...job.env,
  },
  () => Buffer.alloc(0),
);
const scrubber = new Scrubber(config.secrets);
const logger = createLogger({ level: 'warn', scrubber, destination: sink });
const app = createApp(config, logger, scrubber, 'bench', createAuditLog({ scrubber, destination: sink }));
const { store } = app.deps;

function topicOf(i: number): string {
  const prefix = job.fill.prefix ?? 'bench';
  if (job.fill.scheme === 'deep') {
    // Distinct at the first level below the prefix, then `depth` levels: p/<i>/a/a/.../a.
    const depth = job.fill.depth ?? 4;
    return `${prefix}/${i}${'/a'.repeat(Math.max(0, depth - 2))}`;
  }
  return topicName(prefix, job.fill.scheme, i);
}

// ---- fill ----
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const before = process.memoryUsage();
const payload = Buffer.from(jsonPayload(job.fill.payloadBytes));
const total = job.fill.topics * job.fill.perTopic;
const names = Array.from({ length: job.fill.topics }, (_, i) => topicOf(i));
const now0 = Date.now();
const fillStart = performance.now();
for (let i = 0; i < total; i++) {
  // Receive times spread over the last hour, oldest first.
  store.append(
    names[i % job.fill.topics] as string,
    payload,
    1,
    false,
    undefined,
    now0 - 3_600_000 + Math.floor((i * 3_600_000) / total),
  );
}
const fillMs = performance.now() - fillStart;
gc?.();
const after = process.memoryUsage();
const stats = store.stats(Date.now());

// ---- steady-state append (the ingest hot path of the store), then refill what it evicted ----
let appendNsPerMessage: number | undefined;
if (job.appendRate === true) {
  // At most 256 MiB of payload copies, so that the 1 MB points stay quick.
  const n = Math.max(200, Math.min(200_000, Math.max(50_000, total), Math.floor(2 ** 28 / payload.length)));
  const t = performance.now();
  const now = Date.now();
  for (let i = 0; i < n; i++)
    store.append(names[i % job.fill.topics] as string, payload, 1, false, undefined, now);
  appendNsPerMessage = ((performance.now() - t) * 1e6) / n;
}

// ---- MCP over an in-memory transport ----
type Pending = (message: JSONRPCMessage, bytes: number) => void;
async function connect(server: McpServer) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const pending = new Map<number, Pending>();
  clientSide.onmessage = (message) => {
    const id = (message as { id?: number }).id;
    if (typeof id !== 'number') return;
    // Serialise like the stdio and HTTP transports do.
    const bytes = Buffer.byteLength(JSON.stringify(message));
    const p = pending.get(id);
    pending.delete(id);
    p?.(message, bytes);
  };
  await server.connect(serverSide);
  await clientSide.start();
  let nextId = 1;
  const request = (method: string, params: unknown) =>
    new Promise<{ message: JSONRPCMessage; bytes: number }>((resolve) => {
      const id = nextId++;
      pending.set(id, (message, bytes) => resolve({ message, bytes }));
      void clientSide.send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage);
    });
  await request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'b', version: '1' },
  });
  await clientSide.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  await request('tools/list', {});
  return request;
}
const bridgeMcp = await connect(createServer(app.deps));
const minimal = new McpServer({ name: 'minimal', version: '1' }, { capabilities: { tools: {} } });
minimal.registerTool(
  'noop',
  { inputSchema: { filter: z.string().optional(), limit: z.number().int().optional() } },
  async () => ({ content: [{ type: 'text', text: 'ok' }] }),
);
const noopMcp = await connect(minimal);

const extra = {
  signal: new AbortController().signal,
  requestId: 1,
  sendNotification: async () => undefined,
  sendRequest: async () => ({}),
} as unknown as Parameters<typeof runTool>[3];

const budget = job.budgetMs ?? 1500;
const minIters = job.minIters ?? 20;
const maxIters = job.maxIters ?? 2000;

async function timed(call: () => unknown): Promise<number[]> {
  const times: number[] = [];
  // Warm-up: a tenth of the budget.
  const warm = performance.now();
  for (let i = 0; i < 5 || (performance.now() - warm < budget / 10 && i < maxIters / 10); i++) await call();
  const start = performance.now();
  while (times.length < minIters || (performance.now() - start < budget && times.length < maxIters)) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  return times;
}

const results: OpResult[] = [];
for (const op of job.ops) {
  const spec = ALL_TOOLS.find((t) => t.name === op.tool);
  if (spec === undefined) throw new Error(`no tool ${op.tool}`);
  for (const layer of op.layers) {
    if (layer === 'store') {
      const filter = typeof op.args.filter === 'string' ? op.args.filter : '#';
      const limit = Number(
        op.args.limit ?? (op.tool === 'mqtt_list_topics' ? 100 : op.tool === 'mqtt_get_latest' ? 50 : 20),
      );
      let items = 0;
      const call =
        op.tool === 'mqtt_read_messages'
          ? () => (items = store.query(filter, { limit, now: Date.now() }).length)
          : op.tool === 'mqtt_get_latest'
            ? () => (items = store.latest(filter, { limit, now: Date.now() }).messages.length)
            : () => (items = store.topics([filter], { limit, now: Date.now() }).topics.length);
      results.push({ name: op.name, layer, latency: latency(await timed(call)), items });
    } else if (layer === 'handler') {
      let textBytes = 0;
      const call = async () => {
        const args = spec.input.parse(op.args);
        const result = await runTool(spec, app.deps, args, extra);
        if (result.isError === true) throw new Error(JSON.stringify(result.content));
        const first = result.content[0];
        textBytes = first?.type === 'text' ? Buffer.byteLength(first.text) : 0;
      };
      results.push({ name: op.name, layer, latency: latency(await timed(call)), textBytes });
    } else {
      const bridgeTimes: number[] = [];
      const noopTimes: number[] = [];
      let wireBytes = 0;
      let textBytes = 0;
      const params = { name: op.tool, arguments: op.args };
      const noopParams = {
        name: 'noop',
        arguments: { filter: typeof op.args.filter === 'string' ? op.args.filter : '#', limit: 20 },
      };
      await timed(async () => {
        let t = performance.now();
        const r = await bridgeMcp('tools/call', params);
        bridgeTimes.push(performance.now() - t);
        wireBytes = r.bytes;
        const result = (r.message as { result?: { isError?: boolean; content?: Array<{ text?: string }> } })
          .result;
        if (result?.isError === true) throw new Error(JSON.stringify(result.content).slice(0, 300));
        textBytes = Buffer.byteLength(result?.content?.[0]?.text ?? '');
        t = performance.now();
        await noopMcp('tools/call', noopParams);
        noopTimes.push(performance.now() - t);
      });
      // timed() also recorded warm-up calls into the arrays; keep the measured tail.
      const n = Math.min(bridgeTimes.length, noopTimes.length);
      const keep = Math.max(minIters, Math.floor(n * 0.9));
      results.push({
        name: op.name,
        layer,
        latency: latency(bridgeTimes.slice(n - keep)),
        noop: latency(noopTimes.slice(n - keep)),
        wireBytes,
        textBytes,
      });
    }
  }
}
gc?.();
send({
  done: true,
  fillMs,
  fillNsPerMessage: (fillMs * 1e6) / total,
  appendNsPerMessage,
  stored: stats.messages,
  topics: stats.topics,
  rssBytesPerMessage: (after.rss - before.rss) / stats.messages,
  heapBytesPerMessage:
    (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / stats.messages,
  rss: process.memoryUsage().rss,
  results,
});
process.exit(0);
