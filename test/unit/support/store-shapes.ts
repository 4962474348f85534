/**
 * Feeds a MessageStore (the configuration's defaults, STORE_MAX_BYTES given) with one shape of
 * topics or properties that a device publisher can choose, and reports the heap after full GCs.
 * Run by store-memory.test.ts in a process of its own with a capped heap, as in the container.
 * Prints one JSON line: the baseline heap, the largest heap seen, and the store's own count.
 *
 * Usage: node --expose-gc --max-old-space-size=N --import tsx store-shapes.ts <shape> <maxBytes>
 */
import { loadConfig } from '../../../src/config/load.js';
import { MessageStore } from '../../../src/store/message-store.js';

interface Shape {
  /** How many appends. */
  readonly count: number;
  readonly topic: (i: number) => string;
  readonly payloadBytes?: number;
  /** Settings besides STORE_MAX_BYTES (else the defaults). */
  readonly env?: Record<string, string>;
  /** Payload bytes per append, instead of payloadBytes. */
  readonly payload?: (i: number) => number;
  readonly properties?: (i: number) => { userProperties: Record<string, string | string[]> };
}

const MAX_TOPIC = 65_535; // the longest topic name MQTT can carry, in bytes

const SHAPES: Record<string, Shape> = {
  // About 200 levels, the first one unique: one trie branch per topic.
  deep: { count: 15_000, topic: (i) => `${i}/${Array.from({ length: 199 }, (_, j) => `l${j}`).join('/')}` },
  // As many one-letter levels as fit: 'a/a/a/...'.
  tiny: { count: 1500, topic: (i) => `${i}${'/a'.repeat((MAX_TOPIC - 8) / 2)}` },
  // Only empty levels after the first: '7////...'.
  empty: { count: 1500, topic: (i) => `${i}${'/'.repeat(MAX_TOPIC - 8)}` },
  // One long level.
  long: { count: 1500, topic: (i) => `${i}/${'x'.repeat(MAX_TOPIC - 8)}` },
  // Characters above U+00FF (two bytes each on the heap, three in UTF-8).
  wide: { count: 1500, topic: (i) => `${i}/${'\u4e00'.repeat((MAX_TOPIC - 8) / 3)}` },
  // Very many small messages: every topic full (the defaults allow a million messages).
  many: { count: 700_000, topic: (i) => `w/${i % 10_000}`, payloadBytes: 1 },
  // Topics turned over by the topic cap: every message makes a new topic and drops the oldest.
  churn: { count: 300_000, topic: (i) => `c/${i % 20_000}/${'z'.repeat(100)}` },
  // Long topics with a short sibling under the same long first level; the siblings are updated
  // again, then other long topics push the first ones out: nothing of a dropped topic may stay
  // behind in its sibling's branch.
  sibling: {
    count: 4000,
    topic: (i) => {
      const first = (k: number) => `${k}-a-first-level-longer-than-13`;
      if (i < 2000) return i % 2 === 0 ? `${first(i >> 1)}/${'x'.repeat(60_000)}` : `${first(i >> 1)}/y`;
      if (i < 3000) return `${first(i - 2000)}/y`;
      return `z${i}/${'x'.repeat(60_000)}`;
    },
  },
  // Evicted messages the eviction heap still refers to: big last-known values that the byte
  // eviction passed, made history by small messages and dropped by the per-topic cap, while
  // 8,000 other topics hold small messages.
  evicted: {
    count: 16_000 + 30 * 19_000,
    topic: (i) => {
      if (i < 16_000) return `f/${i % 8000}`;
      const j = (i - 16_000) % 19_000;
      return j < 3000 ? `e/${j % 1000}` : `f/${(j - 3000) % 8000}`;
    },
    payload: (i) => (i >= 16_000 && (i - 16_000) % 19_000 < 1000 ? 65_536 : 1),
    env: { STORE_MAX_MESSAGES_PER_TOPIC: '2' },
  },
  // A full binary tree of 17 levels ('0/1/1/0/...'): a branch node with a children map per topic.
  branching: {
    count: 1 << 17,
    topic: (i) => i.toString(2).padStart(17, '0').split('').join('/'),
    env: { STORE_MAX_TOPICS: '200000' },
  },
  // Topics that are each other's parents ('p7', 'p7/x'): nodes with a value and one child.
  chain: {
    count: 200_000,
    topic: (i) => (i % 2 === 0 ? `p${i >> 1}` : `p${i >> 1}/x`),
    env: { STORE_MAX_TOPICS: '200000' },
  },
  // Small messages carrying many user properties.
  properties: {
    count: 60_000,
    topic: (i) => `p/${i % 5000}`,
    payloadBytes: 0,
    properties: (i) => {
      const user: Record<string, string> = Object.create(null) as Record<string, string>;
      for (let k = 0; k < 20; k++) user[`name-${k}`] = `${i}:${'v'.repeat(40)}`;
      return { userProperties: user };
    },
  },
  // User properties with repeated names, as the MQTT client collects them (arrays grown by push).
  repeated: {
    count: 60_000,
    topic: (i) => `r/${i % 5000}`,
    payloadBytes: 0,
    properties: (i) => {
      const user: Record<string, string | string[]> = Object.create(null) as Record<
        string,
        string | string[]
      >;
      for (let k = 0; k < 12; k++) {
        const value = `${i}:${k}`;
        const name = `name-${k % 4}`;
        const seen = user[name];
        if (seen === undefined) user[name] = value;
        else if (Array.isArray(seen)) seen.push(value);
        else user[name] = [seen, value];
      }
      return { userProperties: user };
    },
  },
};

const [name, maxBytesText] = process.argv.slice(2);
const shape = SHAPES[name ?? ''];
if (shape === undefined || maxBytesText === undefined) {
  process.stderr.write(`usage: store-shapes.ts <${Object.keys(SHAPES).join('|')}> <maxBytes>\n`);
  process.exitCode = 2;
} else {
  const config = loadConfig(
    { MQTT_URL: 'mqtts://127.0.0.1:1', STORE_MAX_BYTES: maxBytesText, ...shape.env },
    () => Buffer.alloc(0),
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const heap = () => {
    gc();
    gc();
    // The message columns are typed arrays, whose bytes live outside the V8 heap.
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const store = new MessageStore(config.store);
  const payload = Buffer.alloc(shape.payloadBytes ?? 60, 0x61);
  const sized = new Map<number, Buffer>();
  const payloadOf = (i: number) => {
    const size = shape.payload?.(i);
    if (size === undefined) return payload;
    let buffer = sized.get(size);
    if (buffer === undefined) sized.set(size, (buffer = Buffer.alloc(size, 0x62)));
    return buffer;
  };
  // Topics are made in a function of their own, so that no temporary of this frame keeps one.
  const append = (i: number) => {
    const topic = Buffer.from(shape.topic(i)).toString(); // as the MQTT client decodes it
    store.append(topic, payloadOf(i), 0, false, shape.properties?.(i), i);
  };
  const baseline = heap();
  // Heap growth over the baseline and the store's own count, after each twelfth of the appends.
  const samples: Array<{ heap: number; counted: number }> = [];
  for (let s = 1; s <= 12; s++) {
    const end = Math.floor((shape.count * s) / 12);
    for (let i = Math.floor((shape.count * (s - 1)) / 12); i < end; i++) append(i);
    samples.push({ heap: heap() - baseline, counted: store.stats(end).bytes });
  }
  const stats = store.stats(shape.count);
  process.stdout.write(
    `${JSON.stringify({ shape: name, baseline, samples, topics: stats.topics, messages: stats.messages, dropped: stats.dropped })}\n`,
  );
}
