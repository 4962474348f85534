/**
 * Memory per stored message, in a process of its own (run with --expose-gc):
 *   bridge  the bridge's MessageStore (from createApp), filled through store.append()
 *   naive   the smallest honest structure holding the same: Map<topic, Array<{payload copy,
 *           receivedAt}>> (the baseline: what any store must pay)
 * Resident memory and heap+external are read after a full GC, before and after the fill.
 * With a snapshot path, heap snapshots before and after the fill are compared by object kind.
 * Usage: tsx bench/workers/memory.ts <bridge|naive> <messages> <topics> <payloadBytes> [snapshot]
 */
import { readFileSync, rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { writeHeapSnapshot } from 'node:v8';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createAuditLog } from '../../src/logging/audit.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { jsonPayload } from '../lib/payload.js';

const [mode, messagesText, topicsText, payloadText, snapshot] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string?,
];
const messages = Number(messagesText);
const topics = Number(topicsText);
const payload = Buffer.from(jsonPayload(Number(payloadText)));
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = () => {
  gc();
  gc();
  return process.memoryUsage();
};

const names = Array.from(
  { length: topics },
  (_, i) => `bench/s${i % 10}/d${Math.floor(i / 10) % 100}/m${Math.floor(i / 1000)}`,
);
// Held on globalThis so that no optimisation can let the filled structure be collected early.
const hold = globalThis as { benchKeep?: unknown };
let append: (topic: string, now: number) => void;
if (mode === 'bridge') {
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const config = loadConfig(
    {
      MQTT_URL: 'mqtts://127.0.0.1:1',
      LOG_LEVEL: 'warn',
      STORE_MAX_TOPICS: String(topics + 10),
      STORE_MAX_MESSAGES_PER_TOPIC: String(Math.ceil(messages / topics) + 1),
      STORE_MAX_BYTES: String(64 * 2 ** 30),
    },
    () => Buffer.alloc(0),
  );
  const scrubber = new Scrubber(config.secrets);
  const app = createApp(
    config,
    createLogger({ level: 'warn', scrubber, destination: sink }),
    scrubber,
    'bench',
    createAuditLog({ scrubber, destination: sink }),
  );
  hold.benchKeep = app;
  append = (topic, now) => void app.deps.store.append(topic, payload, 1, false, undefined, now);
} else {
  const map = new Map<string, Array<{ payload: Buffer; receivedAt: number }>>();
  hold.benchKeep = map;
  append = (topic, now) => {
    let list = map.get(topic);
    if (list === undefined) map.set(topic, (list = []));
    const copy = Buffer.allocUnsafe(payload.length);
    copy.set(payload);
    list.push({ payload: copy, receivedAt: now });
  };
}
// Topic names exist before the baseline reading in both modes (they come from the broker).
// With a snapshot path only the heap snapshots are of interest: the fill happens there.
// Filled in two halves, so that the second half's growth (the marginal cost of a message, with
// the young generation and other fixed costs already paid) can be told from the whole.
const before = settle();
const now = Date.now();
const half = Math.floor(messages / 2);
if (snapshot === undefined)
  for (let i = 0; i < half; i++) append(names[i % topics] as string, now - messages + i);
const middle = settle();
if (snapshot === undefined)
  for (let i = half; i < messages; i++) append(names[i % topics] as string, now - messages + i);
const after = settle();
const out: Record<string, unknown> = {
  done: true,
  mode,
  messages,
  payloadBytes: payload.length,
  rssPerMessage: (after.rss - before.rss) / messages,
  marginalRssPerMessage: (after.rss - middle.rss) / (messages - half),
  heapPerMessage: (after.heapUsed - before.heapUsed) / messages,
  externalPerMessage:
    (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / messages / 2,
  heapAndBuffersPerMessage:
    (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / messages,
  stored:
    mode === 'bridge'
      ? (hold.benchKeep as ReturnType<typeof createApp>).deps.store.stats(Date.now()).messages
      : [...(hold.benchKeep as Map<string, unknown[]>).values()].reduce((a, l) => a + l.length, 0),
};
if (snapshot !== undefined) {
  // Per kind of heap object: (after - before) / messages, from two snapshots around a refill.
  const before = kindsOf(`${snapshot}.a`);
  for (let i = 0; i < messages; i++) append(names[i % topics] as string, Date.now());
  const after = kindsOf(`${snapshot}.b`);
  out.kinds = [...after.entries()]
    .map(([kind, v]) => {
      const b = before.get(kind) ?? { count: 0, bytes: 0 };
      return {
        kind,
        count: v.count - b.count,
        bytes: v.bytes - b.bytes,
        perMessage: (v.bytes - b.bytes) / messages,
      };
    })
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);

function kindsOf(path: string): Map<string, { count: number; bytes: number }> {
  gc();
  gc();
  const file = writeHeapSnapshot(path);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  rmSync(file, { force: true });
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const nf = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const kinds = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const type = types[snap.nodes[i + iType] as number] as string;
    const name =
      type === 'object' || type === 'native' || type === 'hidden' || type === 'closure'
        ? `${type}:${snap.strings[snap.nodes[i + iName] as number]}`
        : type;
    const k = kinds.get(name) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += snap.nodes[i + iSize] as number;
    kinds.set(name, k);
  }
  return kinds;
}
