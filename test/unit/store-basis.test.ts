/**
 * What the store says about what it holds: retained replays of a held value are not stored
 * again (a redundant subscribe or a reconnect must not give an old value a new receive time),
 * and held() counts the drops of the matching topics and the time from which memory is complete.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageStore, type StoreLimits } from '../../src/store/message-store.js';

const LIMITS: StoreLimits = {
  maxTopics: 1000,
  maxMessagesPerTopic: 1000,
  maxBytes: 1 << 30,
  maxAgeMs: 1e12,
  maxPayloadBytes: 1 << 20,
};

const put = (store: MessageStore, topic: string, text: string, at: number, retain = false) =>
  store.append(topic, Buffer.from(text), 1, retain, undefined, at);

describe('retained replays', () => {
  it('a replay of the last-known value is not stored again, and keeps its receive time', () => {
    const store = new MessageStore(LIMITS);
    assert.ok(put(store, 'plant/a', '21.5', 1000, true));
    assert.equal(put(store, 'plant/a', '21.5', 9000, true), undefined);
    const [latest] = store.latest('plant/a', { limit: 1, now: 9000 }).messages;
    assert.equal(latest?.receivedAt, 1000);
    assert.equal(store.stats(9000).replaysIgnored, 1);
    assert.equal(store.stats(9000).received, 1);
    const [topic] = store.topics(['plant/#'], { limit: 10, now: 9000 }).topics;
    assert.equal(topic?.lastReceivedAt, 1000);
    assert.equal(topic?.received, 1);
  });

  it('a live message then its retained replay (same bytes): one message', () => {
    const store = new MessageStore(LIMITS);
    put(store, 'plant/a', 'on', 1000, false);
    assert.equal(put(store, 'plant/a', 'on', 2000, true), undefined);
    assert.equal(store.query('plant/a', { limit: 10, now: 2000 }).length, 1);
  });

  it('a retained value that differs from the held one is stored, marked retained', () => {
    const store = new MessageStore(LIMITS);
    put(store, 'plant/a', 'on', 1000, false);
    const replay = put(store, 'plant/a', 'off', 2000, true);
    assert.equal(replay?.retain, true);
    assert.equal(store.query('plant/a', { limit: 10, now: 2000 }).length, 2);
  });

  it('a live message with the same bytes is a new message (only replays are folded)', () => {
    const store = new MessageStore(LIMITS);
    put(store, 'plant/a', 'on', 1000, false);
    assert.ok(put(store, 'plant/a', 'on', 2000, false));
    assert.equal(store.query('plant/a', { limit: 10, now: 2000 }).length, 2);
  });

  it('compares whole payloads: a longer or a changed one is not a replay', () => {
    const store = new MessageStore(LIMITS);
    put(store, 'plant/a', 'abc', 1000, true);
    assert.ok(put(store, 'plant/a', 'abcd', 2000, true));
    assert.ok(put(store, 'plant/a', 'abce', 3000, true));
  });

  it('a replay of a value the store no longer holds is stored', () => {
    const store = new MessageStore({ ...LIMITS, maxAgeMs: 1000 });
    put(store, 'plant/a', 'on', 1000, true);
    assert.ok(put(store, 'plant/a', 'on', 5000, true), 'the first aged out');
  });
});

describe('held()', () => {
  it('nothing dropped: no drops and no boundary', () => {
    const store = new MessageStore(LIMITS);
    put(store, 'plant/a', '1', 1000);
    assert.deepEqual(store.held(['plant/#'], 1000), { topics: 1, dropped: 0, droppedUntil: 0 });
  });

  it('counts per-topic drops of the matching topics only, with the newest dropped time', () => {
    const store = new MessageStore({ ...LIMITS, maxMessagesPerTopic: 2 });
    for (let i = 1; i <= 5; i++) put(store, 'plant/fast', String(i), i * 100);
    put(store, 'plant/slow', 'x', 50);
    put(store, 'other/fast', 'y', 10);
    for (let i = 1; i <= 4; i++) put(store, 'other/fast', String(i), 1000 + i);
    // plant/fast keeps 400 and 500; 100, 200, 300 were dropped.
    assert.deepEqual(store.held(['plant/#'], 600), { topics: 2, dropped: 3, droppedUntil: 300 });
    assert.deepEqual(store.held(['plant/slow'], 600), { topics: 1, dropped: 0, droppedUntil: 0 });
    // Two filters that overlap count each topic once.
    assert.deepEqual(store.held(['plant/#', 'plant/fast'], 600), {
      topics: 2,
      dropped: 3,
      droppedUntil: 300,
    });
  });

  it('counts drops by age too, and an emptied topic keeps its count', () => {
    const store = new MessageStore({ ...LIMITS, maxAgeMs: 1000 });
    put(store, 'plant/a', '1', 100);
    put(store, 'plant/a', '2', 200);
    assert.deepEqual(store.held(['plant/a'], 5000), { topics: 1, dropped: 2, droppedUntil: 200 });
  });
});
