/**
 * The store answers the same whichever way it searches: the newest-first scan for broad
 * `prefix/#` filters (with its give-up budget), the k-way merge for the rest, the tree-order
 * listing and the subtree counts, all checked against a brute-force reading of every message.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topicMatches } from '../../src/mqtt/topic.js';
import { MessageStore, compareTopics } from '../../src/store/message-store.js';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const LIMITS = {
  maxTopics: 100_000,
  maxMessagesPerTopic: 50,
  maxBytes: 1 << 30,
  maxAgeMs: 1e12,
  maxPayloadBytes: 1024,
};

function fill(seed: number, topics: string[], messages: number, weights?: (t: string) => number) {
  const random = prng(seed);
  const store = new MessageStore(LIMITS);
  const all: Array<{ topic: string; seq: number; at: number }> = [];
  let at = 1_000;
  for (let i = 0; i < messages; i++) {
    let topic = topics[Math.floor(random() * topics.length)] as string;
    if (weights !== undefined)
      while (random() > weights(topic)) topic = topics[Math.floor(random() * topics.length)] as string;
    at += Math.floor(random() * 3);
    const stored = store.append(topic, Buffer.from(`m${i}`), 0, false, undefined, at);
    all.push({ topic, seq: stored?.seq ?? -1, at });
  }
  return { store, all, now: at };
}

/** Newest first, as the store defines it, from everything still stored. */
function reference(store: MessageStore, filter: string, limit: number, since: number, now: number): number[] {
  const stored = store.query('#', { limit: 1e9, now }).concat(store.query('$x/#', { limit: 1e9, now }));
  return stored
    .filter((m) => topicMatches(filter, m.topic) && m.receivedAt >= since)
    .sort((a, b) => b.receivedAt - a.receivedAt || b.seq - a.seq)
    .slice(0, limit)
    .map((m) => m.seq);
}

const TOPICS = [
  ...Array.from({ length: 60 }, (_, i) => `plant/line${i % 6}/dev${i}`),
  ...Array.from({ length: 20 }, (_, i) => `office/room${i}`),
  'plant',
  '$x/stats',
  '/lead',
];

describe('query: broad scan and merge agree with brute force', () => {
  for (const seed of [1, 2, 3]) {
    const { store, now } = fill(seed, TOPICS, 3000);
    for (const filter of [
      '#',
      'plant/#',
      'plant/line3/#',
      'office/#',
      'plant/+/dev7',
      '+/line1/#',
      '$x/#',
      '/#',
    ]) {
      for (const [limit, sinceBack] of [
        [20, 1e9],
        [200, 1e9],
        [50, 300],
      ] as const) {
        it(`seed ${seed}: ${filter} limit ${limit} since now-${sinceBack}`, () => {
          const since = now - sinceBack;
          const got = store.query(filter, { limit, since, now }).map((m) => m.seq);
          assert.deepEqual(got, reference(store, filter, limit, since, now));
        });
      }
    }
  }

  it('a broad filter whose messages are all old gives up scanning and still answers right', () => {
    // 'cold/#' holds a third of the topics but only old messages; 'hot/' gets all new traffic.
    const topics = [
      ...Array.from({ length: 30 }, (_, i) => `cold/t${i}`),
      ...Array.from({ length: 60 }, (_, i) => `hot/t${i}`),
    ];
    const store = new MessageStore(LIMITS);
    let at = 1;
    for (const t of topics.slice(0, 30)) store.append(t, Buffer.from('old'), 0, false, undefined, at++);
    for (let i = 0; i < 20_000; i++)
      store.append(topics[30 + (i % 60)] as string, Buffer.from('new'), 0, false, undefined, at++);
    const got = store.query('cold/#', { limit: 5, now: at }).map((m) => m.seq);
    assert.deepEqual(got, reference(store, 'cold/#', 5, 0, at));
    assert.equal(got.length, 5);
  });
});

/** Each matching topic's newest stored message, newest first, and how many topics have one. */
function latestReference(store: MessageStore, filter: string, limit: number, now: number) {
  const stored = store.query('#', { limit: 1e9, now }).concat(store.query('$x/#', { limit: 1e9, now }));
  const newest = new Map<string, (typeof stored)[number]>();
  for (const m of stored) {
    if (!topicMatches(filter, m.topic)) continue;
    const seen = newest.get(m.topic);
    if (seen === undefined || m.seq > seen.seq) newest.set(m.topic, m);
  }
  const all = [...newest.values()].sort((a, b) => b.receivedAt - a.receivedAt || b.seq - a.seq);
  return { seqs: all.slice(0, limit).map((m) => m.seq), matched: all.length };
}

describe('latest: broad scan and full match agree with brute force', () => {
  for (const seed of [4, 5]) {
    const { store, now } = fill(seed, TOPICS, 3000);
    for (const filter of ['#', 'plant/#', 'office/#', 'plant/line3/#', 'plant/+/dev7', '$x/#']) {
      for (const limit of [1, 10, 50, 500]) {
        it(`seed ${seed}: ${filter} limit ${limit}`, () => {
          const got = store.latest(filter, { limit, now });
          const want = latestReference(store, filter, limit, now);
          assert.deepEqual(
            got.messages.map((m) => m.seq),
            want.seqs,
          );
          assert.equal(got.matched, want.matched);
        });
      }
    }
  }

  it('topics whose messages aged out are not counted as matched', () => {
    const store = new MessageStore({ ...LIMITS, maxAgeMs: 1_000 });
    for (let i = 0; i < 40; i++) store.append(`old/t${i}`, Buffer.from('x'), 0, false, undefined, 1);
    for (let i = 0; i < 400; i++)
      store.append(`new/t${i % 40}`, Buffer.from('y'), 0, false, undefined, 5_000 + i);
    const now = 5_400;
    const got = store.latest('#', { limit: 10, now });
    const want = latestReference(store, '#', 10, now);
    assert.equal(got.matched, 40);
    assert.deepEqual(
      got.messages.map((m) => m.seq),
      want.seqs,
    );
  });

  it('a broad filter whose topics are quiet gives up scanning and still answers right', () => {
    const store = new MessageStore(LIMITS);
    let at = 1;
    for (let i = 0; i < 30; i++) store.append(`cold/t${i}`, Buffer.from('old'), 0, false, undefined, at++);
    for (let i = 0; i < 20_000; i++) store.append('hot/t', Buffer.from('new'), 0, false, undefined, at++);
    const got = store.latest('cold/#', { limit: 5, now: at });
    assert.deepEqual(
      got.messages.map((m) => m.seq),
      latestReference(store, 'cold/#', 5, at).seqs,
    );
    assert.equal(got.matched, 30);
  });
});

describe('topics: tree order and counts', () => {
  const { store, now } = fill(7, TOPICS, 2000);
  for (const filter of ['#', 'plant/#', 'plant/+/+', 'office/+', '+', '$x/#', 'plant/line2/dev2']) {
    it(`${filter}: the first N in tree order, and the full count`, () => {
      const every = TOPICS.filter(
        (t) => topicMatches(filter, t) && store.query(t, { limit: 1, now }).length > 0,
      ).sort(compareTopics);
      for (const limit of [1, 7, 1000]) {
        const { topics, matched } = store.topics([filter], { limit, now });
        assert.equal(matched, every.length);
        assert.deepEqual(
          topics.map((t) => t.topic),
          every.slice(0, limit),
        );
      }
    });
  }

  it('tree order compares level by level', () => {
    assert.deepEqual(['a b/c', 'a/b', 'a', 'a/b/c', 'a-b'].sort(compareTopics), [
      'a',
      'a/b',
      'a/b/c',
      'a b/c',
      'a-b',
    ]);
  });
});
