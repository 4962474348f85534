import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageStore, type StoreLimits, type StoredMessage } from '../../src/store/message-store.js';
import { MESSAGE_BYTES } from '../../src/store/cost.js';
import { createRng } from './support/prng.js';
import { ReferenceStore, storeBytes } from './support/store-model.js';

const BIG: StoreLimits = {
  maxTopics: 1000,
  maxMessagesPerTopic: 1000,
  maxBytes: 1 << 30,
  maxAgeMs: 1e12,
  maxPayloadBytes: 1 << 20,
};
const ALL = Number.MAX_SAFE_INTEGER;

function newStore(limits: Partial<StoreLimits>, admit?: (topic: string) => boolean): MessageStore {
  return new MessageStore({ ...BIG, ...limits }, admit);
}

function put(store: MessageStore, topic: string, size: number, now: number): StoredMessage | undefined {
  return store.append(topic, Buffer.alloc(size, 0x61), 1, false, undefined, now);
}

function parseOps(ops: string): Array<{ topic: string; size: number; time: number }> {
  return ops.split(' ').map((op) => {
    const match = /^(.+):(\d+)@(\d+)$/.exec(op);
    if (match === null) throw new Error(`bad op ${op}`);
    return { topic: match[1] ?? '', size: Number(match[2]), time: Number(match[3]) };
  });
}

const show = (messages: readonly StoredMessage[]) => messages.map((m) => `${m.topic}@${m.receivedAt}`);

/** Recount messages and bytes from what the store shows (no `$` topics are used here). */
function recount(store: MessageStore, now: number) {
  const messages = store.query('#', { limit: ALL, now });
  const topics = store.topics(['#'], { limit: ALL, now }).topics;
  const bytes = storeBytes(
    topics.map((t) => t.topic),
    messages.map((m) => m.payload.byteLength),
  );
  return { messages: messages.length, bytes, topics: topics.length };
}

/** The byte limit that holds this many one-letter topics and messages, and this many payload bytes. */
function room(topics: number, messages: number, payload: number): number {
  return topics * storeBytes(['a'], []) + messages * MESSAGE_BYTES + payload;
}

// ---- eviction on every axis ----

interface Scenario {
  readonly name: string;
  readonly limits: Partial<StoreLimits>;
  /**
   * Appends as `topic:payloadSize@receiveTime`, space-separated; topic names are 1 byte each. The
   * byte limits are room() for what should fit: every message costs MESSAGE_BYTES besides its
   * payload, so some payloads are sized from it.
   */
  readonly ops: string;
  readonly now: number;
  /** query('#') afterwards, newest first, as topic@time. */
  readonly stored: readonly string[];
  readonly dropped: Partial<Record<'age' | 'bytes' | 'perTopic' | 'topics' | 'policy', number>>;
  readonly topics?: number;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'maxTopics drops the least recently updated topic',
    limits: { maxTopics: 2 },
    ops: 'a:1@1 b:1@2 a:1@3 c:1@4',
    now: 5,
    stored: ['c@4', 'a@3', 'a@1'],
    dropped: { topics: 1 },
    topics: 2,
  },
  {
    name: 'maxTopics counts every dropped topic',
    limits: { maxTopics: 1 },
    ops: 'a:1@1 b:1@2 c:1@3 c:1@4',
    now: 5,
    stored: ['c@4', 'c@3'],
    dropped: { topics: 2 },
    topics: 1,
  },
  {
    name: 'maxMessagesPerTopic drops the oldest of the topic',
    limits: { maxMessagesPerTopic: 2 },
    ops: 'a:1@1 a:1@2 b:1@3 a:1@4 a:1@5',
    now: 6,
    stored: ['a@5', 'a@4', 'b@3'],
    dropped: { perTopic: 2 },
  },
  {
    name: 'maxBytes evicts the oldest history first',
    limits: { maxBytes: room(2, 3, 38) },
    ops: 'a:10@1 a:10@2 b:10@3 b:10@4',
    now: 5,
    stored: ['b@4', 'b@3', 'a@2'],
    dropped: { bytes: 1 },
  },
  {
    name: 'maxBytes keeps an older last value and evicts newer history',
    limits: { maxBytes: room(3, 3, 37) },
    ops: 'a:10@1 b:10@2 b:10@3 c:10@4',
    now: 5,
    stored: ['c@4', 'b@3', 'a@1'],
    dropped: { bytes: 1 },
  },
  {
    name: 'maxBytes evicts the oldest last values, with their topics, when no history is left',
    limits: { maxBytes: room(3, 2, 22) },
    ops: 'a:10@1 b:10@2 c:10@3',
    now: 4,
    stored: ['c@3', 'b@2'],
    dropped: { bytes: 1 },
    topics: 2,
  },
  {
    name: 'maxBytes evicts several messages for one big one',
    limits: { maxBytes: room(2, 4, 40) },
    ops: `a:10@1 a:10@2 a:10@3 b:10@4 b:${MESSAGE_BYTES + 30}@5`,
    now: 6,
    stored: ['b@5', 'a@3'],
    dropped: { bytes: 3 },
  },
  {
    name: 'maxAgeMs drops old messages on append and on read',
    limits: { maxAgeMs: 100 },
    ops: 'a:1@0 b:1@50 a:1@120',
    now: 160,
    stored: ['a@120'],
    dropped: { age: 2 },
    topics: 2,
  },
  {
    name: 'maxAgeMs keeps a message exactly maxAgeMs old',
    limits: { maxAgeMs: 100 },
    ops: 'a:1@0 a:1@10',
    now: 100,
    stored: ['a@10', 'a@0'],
    dropped: {},
  },
  {
    // a@0 and b@600 become last values parked under byte pressure, then history again
    // when a@900 and b@950 arrive; a@0 is then past the age limit and must go.
    name: 'maxAgeMs also drops history that was a parked last value',
    limits: { maxBytes: room(3, 5, 55), maxAgeMs: 1000 },
    ops: `a:10@0 b:10@600 c:${MESSAGE_BYTES + 40}@700 c:10@800 a:10@900 b:10@950`,
    now: 1300,
    stored: ['b@950', 'a@900', 'c@800', 'b@600'],
    dropped: { bytes: 1, age: 1 },
  },
  {
    name: 'byte pressure after unparking still evicts the oldest history first',
    limits: { maxBytes: room(3, 5, 55) },
    ops: `a:10@0 b:10@600 c:${MESSAGE_BYTES + 40}@700 c:10@800 a:10@900 b:10@950 c:10@960`,
    now: 1000,
    stored: ['c@960', 'b@950', 'a@900', 'c@800', 'b@600'],
    dropped: { bytes: 2 },
  },
];

describe('MessageStore bounds', () => {
  for (const s of SCENARIOS) {
    it(s.name, () => {
      const store = newStore(s.limits);
      const ops = parseOps(s.ops);
      for (const { topic, size, time } of ops) put(store, topic, size, time);
      assert.deepEqual(show(store.query('#', { limit: ALL, now: s.now })), s.stored);
      const stats = store.stats(s.now);
      assert.deepEqual(stats.dropped, { age: 0, bytes: 0, perTopic: 0, topics: 0, policy: 0, ...s.dropped });
      assert.equal(stats.received, ops.length);
      if (s.topics !== undefined) assert.equal(stats.topics, s.topics);
      const counted = recount(store, s.now);
      assert.equal(stats.messages, counted.messages);
      assert.equal(stats.bytes, counted.bytes);
      assert.equal(stats.topics, counted.topics);
      assert.ok(stats.bytes <= (s.limits.maxBytes ?? BIG.maxBytes));
    });
  }

  const PAYLOAD_CASES: ReadonlyArray<readonly [number, number, boolean]> = [
    [0, 0, false],
    [7, 7, false],
    [8, 8, false],
    [9, 8, true],
    [1000, 8, true],
  ];
  for (const [size, kept, truncated] of PAYLOAD_CASES) {
    it(`maxPayloadBytes 8: a ${size}-byte payload keeps ${kept} bytes`, () => {
      const store = newStore({ maxPayloadBytes: 8 });
      const input = Buffer.from(Array.from({ length: size }, (_, i) => i & 0xff));
      const stored = store.append('t', input, 0, true, undefined, 1);
      assert.ok(stored !== undefined);
      assert.deepEqual(stored.payload, input.subarray(0, kept));
      assert.equal(stored.sizeBytes, size);
      const stats = store.stats(1);
      assert.equal(stats.truncated, truncated ? 1 : 0);
      assert.equal(stats.bytes, storeBytes(['t'], [kept]));
      assert.equal(store.topics(['t'], { limit: 1, now: 1 }).topics[0]?.lastSizeBytes, size);
    });
  }

  it('copies the payload (the input buffer may be reused)', () => {
    const store = newStore({});
    const input = Buffer.from('hello world');
    const view = new Uint8Array(input.buffer, input.byteOffset, 5);
    store.append('t', view, 0, false, undefined, 1);
    input.fill(0x58);
    assert.equal(store.latest('t', { limit: 1, now: 1 }).messages[0]?.payload.toString(), 'hello');
  });

  it('admit is called once per new topic; refused topics count as policy drops', () => {
    const calls: string[] = [];
    const store = newStore({ maxTopics: 2 }, (topic) => {
      calls.push(topic);
      return !topic.startsWith('deny');
    });
    for (const topic of ['a', 'a', 'deny/x', 'a', 'deny/x', 'b', 'b']) put(store, topic, 1, 1);
    assert.deepEqual(calls, ['a', 'deny/x', 'deny/x', 'b']);
    assert.equal(put(store, 'deny/y', 1, 1), undefined);
    put(store, 'c', 1, 2); // drops 'a', the least recently updated
    put(store, 'a', 1, 3); // 'a' is new again
    assert.deepEqual(calls.slice(4), ['deny/y', 'c', 'a']);
    const stats = store.stats(3);
    assert.equal(stats.dropped.policy, 3);
    assert.equal(stats.received, 7);
    assert.deepEqual(show(store.query('#', { limit: ALL, now: 3 })), ['a@3', 'c@2']);
  });
});

describe('MessageStore reads', () => {
  const store = newStore({});
  // m0..m7 as topic@time; several share a time, so ties are broken by sequence.
  const OPS = 'a/1@10 a/2@10 b/1@20 a/1@30 a/2@30 b/1@30 a/1@40 c@50'.split(' ').map((op) => op.split('@'));
  const seqs = OPS.map(([topic = '', time], i) => {
    const stored = store.append(topic, Buffer.from(`m${i}`), 0, false, undefined, Number(time));
    return stored?.seq ?? -1;
  });

  it('sequence numbers increase by one', () => {
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(store.lastSeq, 8);
  });

  const QUERIES: ReadonlyArray<{ filter: string; limit: number; since?: number; expected: string[] }> = [
    { filter: '#', limit: 100, expected: ['m7', 'm6', 'm5', 'm4', 'm3', 'm2', 'm1', 'm0'] },
    { filter: '#', limit: 3, expected: ['m7', 'm6', 'm5'] },
    { filter: '#', limit: 0, expected: [] },
    { filter: 'a/+', limit: 100, expected: ['m6', 'm4', 'm3', 'm1', 'm0'] },
    { filter: 'a/+', limit: 2, expected: ['m6', 'm4'] },
    { filter: 'a/1', limit: 100, expected: ['m6', 'm3', 'm0'] },
    { filter: '#', limit: 100, since: 30, expected: ['m7', 'm6', 'm5', 'm4', 'm3'] },
    { filter: '#', limit: 100, since: 31, expected: ['m7', 'm6'] },
    { filter: 'b/#', limit: 100, since: 25, expected: ['m5'] },
    { filter: 'nothing/#', limit: 100, expected: [] },
  ];
  for (const q of QUERIES) {
    it(`query('${q.filter}', limit ${q.limit}, since ${q.since ?? '-'})`, () => {
      const options = { limit: q.limit, now: 60, ...(q.since !== undefined ? { since: q.since } : {}) };
      assert.deepEqual(
        store.query(q.filter, options).map((m) => m.payload.toString()),
        q.expected,
      );
    });
  }

  const LATEST: ReadonlyArray<{ filter: string; limit: number; expected: string[]; matched: number }> = [
    { filter: '#', limit: 100, expected: ['m7', 'm6', 'm5', 'm4'], matched: 4 },
    { filter: '#', limit: 2, expected: ['m7', 'm6'], matched: 4 },
    { filter: 'a/+', limit: 100, expected: ['m6', 'm4'], matched: 2 },
    { filter: 'x', limit: 100, expected: [], matched: 0 },
  ];
  for (const q of LATEST) {
    it(`latest('${q.filter}', limit ${q.limit})`, () => {
      const result = store.latest(q.filter, { limit: q.limit, now: 60 });
      assert.deepEqual(
        result.messages.map((m) => m.payload.toString()),
        q.expected,
      );
      assert.equal(result.matched, q.matched);
    });
  }

  it('topics() is sorted by name with counts', () => {
    const result = store.topics(['a/#', 'a/+', 'c'], { limit: 100, now: 60 });
    assert.equal(result.matched, 3, 'overlapping filters count a topic once');
    assert.deepEqual(
      result.topics.map((t) => [t.topic, t.received, t.stored, t.lastReceivedAt]),
      [
        ['a/1', 3, 3, 40],
        ['a/2', 2, 2, 30],
        ['c', 1, 1, 50],
      ],
    );
  });

  it('topics() with a limit returns the k smallest names', () => {
    const rng = createRng(7);
    const many = newStore({});
    const names = new Set<string>();
    while (names.size < 300) names.add(`t/${rng.int(0, 99_999).toString(36)}/${rng.pick(['x', 'y', 'zz'])}`);
    for (const name of names) put(many, name, 1, rng.int(1, 100));
    const sorted = [...names].sort();
    for (const limit of [1, 2, 7, 50, 299, 300, 1000]) {
      const result = many.topics(['#'], { limit, now: 100 });
      assert.equal(result.matched, 300);
      assert.deepEqual(
        result.topics.map((t) => t.topic),
        sorted.slice(0, limit),
        `limit ${limit}`,
      );
    }
  });
});

// ---- randomized model test ----

describe('MessageStore against a reference model (seeded)', () => {
  const SEEDS = [1, 2, 3, 4];
  for (const seed of SEEDS) {
    it(`seed ${seed}: 3,000 random appends`, () => {
      const rng = createRng(seed);
      const limits: StoreLimits = {
        maxTopics: 7,
        maxMessagesPerTopic: 6,
        // Room for five topics and about twenty small messages: byte pressure is frequent.
        maxBytes: storeBytes(['a', 'b', 'c/d', 'c/e', 'f/g/h'], Array<number>(20).fill(20)),
        maxAgeMs: 400,
        maxPayloadBytes: 40,
      };
      const admit = (topic: string) => !topic.startsWith('deny');
      const store = new MessageStore(limits, admit);
      const model = new ReferenceStore(limits);
      // A few busy topics and many quiet ones, so quiet last values grow old under byte pressure.
      const busy = ['a', 'b', 'c/d'];
      const quiet = ['c/e', 'f/g/h', 'i', 'k/', '/l', 'deny/m'];
      let now = 1000;
      const fmt = (m: {
        topic: string;
        receivedAt?: number;
        time?: number;
        seq: number;
        sizeBytes?: number;
        size?: number;
      }) => `${m.topic}@${m.receivedAt ?? m.time}#${m.seq}:${m.sizeBytes ?? m.size}`;
      for (let step = 0; step < 3000; step++) {
        now += rng.chance(0.01) ? rng.int(300, 600) : rng.int(0, 12);
        const topic = rng.chance(0.75) ? rng.pick(busy) : rng.pick(quiet);
        const size = rng.chance(0.1) ? rng.int(41, 90) : rng.int(0, 40);
        const stored = store.append(topic, Buffer.alloc(size, step & 0xff), 0, false, undefined, now);
        model.append(topic, size, now, admit);
        assert.equal(stored === undefined, topic.startsWith('deny'));
        if (step % 10 === 0 || step === 2999) {
          const limit = rng.chance(0.5) ? ALL : rng.int(1, 20);
          const since = rng.chance(0.5) ? 0 : now - rng.int(0, 300);
          const got = store.query('#', { limit, since, now }).map(fmt);
          const want = model.query(limit, since, now).map(fmt);
          assert.deepEqual(got, want, `step ${step}`);
          const stats = store.stats(now);
          const modelMessages = model.query(ALL, 0, now);
          assert.equal(stats.messages, modelMessages.length, `messages at step ${step}`);
          assert.equal(stats.bytes, model.bytes(), `bytes at step ${step}`);
          assert.equal(stats.topics, model.topics.size, `topics at step ${step}`);
          assert.deepEqual(stats.dropped, model.dropped, `dropped at step ${step}`);
          assert.equal(stats.truncated, model.truncated);
          assert.ok(stats.bytes <= limits.maxBytes);
          const infos = store.topics(['#'], { limit: ALL, now }).topics;
          assert.deepEqual(
            infos.map((t) => `${t.topic}:${t.stored}/${t.received}`),
            [...model.topics.entries()]
              .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
              .map(([name, t]) => `${name}:${t.msgs.length}/${t.received}`),
          );
        }
      }
      // Every kind of drop happened at least once.
      const { dropped } = store.stats(now);
      for (const [kind, count] of Object.entries(dropped)) assert.ok(count > 0, `no ${kind} drops`);
    });
  }
});

describe('MessageStore against a reference model at scale (its columns grow and shrink)', () => {
  for (const seed of [5]) {
    it(`seed ${seed}: 20,000 appends in bursts that fill the store and age out`, () => {
      const rng = createRng(seed);
      const limits: StoreLimits = {
        maxTopics: 400,
        maxMessagesPerTopic: 40,
        maxBytes: storeBytes(['a'], []) * 400 + 1800 * (MESSAGE_BYTES + 20),
        maxAgeMs: 2000,
        maxPayloadBytes: 40,
      };
      const store = new MessageStore(limits);
      const model = new ReferenceStore(limits);
      const topics = Array.from({ length: 500 }, (_, i) => `t/${i % 7}/${i}`);
      const fmt = (m: { topic: string; receivedAt?: number; time?: number; seq: number }) =>
        `${m.topic}@${m.receivedAt ?? m.time}#${m.seq}`;
      let now = 1000;
      let grew = 0;
      let shrank = 0;
      let capacity = store.columns().capacity;
      for (let step = 0; step < 20_000; step++) {
        // Bursts of a few thousand messages, then a pause that ages most of them out.
        now += step % 5000 === 4999 ? rng.int(2000, 3000) : rng.chance(0.25) ? 1 : 0;
        // A few hot topics take most messages, so the per-topic cap evicts in the middle of the list.
        const topic = rng.chance(0.5) ? rng.pick(topics.slice(0, 5)) : rng.pick(topics);
        const size = rng.int(0, 40);
        store.append(topic, Buffer.alloc(size, step & 0xff), 0, false, undefined, now);
        model.append(topic, size, now, () => true);
        const columns = store.columns();
        if (columns.capacity > capacity) grew++;
        if (columns.capacity < capacity) shrank++;
        capacity = columns.capacity;
        assert.ok(columns.capacity <= 2 * Math.max(columns.used, 1024), `capacity at step ${step}`);
        if (step % 397 === 0 || step === 19_999) {
          const limit = rng.chance(0.5) ? ALL : rng.int(1, 50);
          const filter = rng.chance(0.5) ? '#' : `t/${rng.int(0, 6)}/+`;
          const got = store.query(filter, { limit, now }).map(fmt);
          const want = model
            .query(ALL, 0, now)
            .filter((m) => filter === '#' || m.topic.startsWith(filter.slice(0, -1)))
            .slice(0, limit)
            .map(fmt);
          assert.deepEqual(got, want, `step ${step}`);
          const stats = store.stats(now);
          assert.equal(stats.bytes, model.bytes(), `bytes at step ${step}`);
          assert.deepEqual(stats.dropped, model.dropped, `dropped at step ${step}`);
          const latest = store.latest('#', { limit: ALL, now }).messages.map(fmt);
          const newestOfEach = new Map<string, string>();
          for (const m of model.query(ALL, 0, now))
            if (!newestOfEach.has(m.topic)) newestOfEach.set(m.topic, fmt(m));
          assert.deepEqual([...latest].sort(), [...newestOfEach.values()].sort(), `latest at step ${step}`);
        }
      }
      assert.ok(grew > 0 && shrank > 0, `the columns grew ${grew} and shrank ${shrank} times`);
      const { dropped } = store.stats(now);
      assert.ok(dropped.age > 0 && dropped.bytes > 0 && dropped.perTopic > 0, JSON.stringify(dropped));
    });
  }
});
