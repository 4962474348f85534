/**
 * The recorder's queue of columns (src/history/record-queue.ts): a ring that grows while it wraps
 * and gives its room back once emptied; every message comes out as the record it went in as, in
 * order, named by its position.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordQueue } from '../../src/history/record-queue.js';
import type { StoredMessage } from '../../src/store/types.js';
import { createRng } from './support/prng.js';

function message(i: number): StoredMessage {
  const data = 'p'.repeat(i % 50) + String(i);
  return {
    topic: `t/${i % 13}`,
    payload: Buffer.from(data, 'latin1'),
    data,
    storedBytes: data.length,
    qos: (i % 3) as 0 | 1 | 2,
    retain: i % 7 === 0,
    receivedAt: 1_700_000_000_000 + i,
    sizeBytes: data.length + (i % 5),
    seq: i + 1,
    properties: i % 11 === 0 ? { contentType: `type/${i}` } : undefined,
  };
}

describe('RecordQueue', () => {
  it('keeps order and every field through growth while wrapped, and after being emptied', () => {
    const rng = createRng(7);
    const queue = new RecordQueue();
    let next = 0;
    let oldest = 0;
    for (let round = 0; round < 40; round++) {
      // Bursts that outgrow the ring several times, with shifts in between so that it wraps.
      for (let k = rng.int(0, 3000); k > 0; k--) assert.equal(queue.push(message(next)), next++);
      for (let k = rng.int(0, 2500); k > 0 && queue.length > 0; k--) {
        const m = message(oldest);
        assert.equal(queue.head, oldest);
        assert.equal(queue.topicAt(oldest), m.topic);
        assert.equal(queue.storedBytesAt(oldest), m.storedBytes);
        assert.equal(queue.seqAt(oldest), m.seq);
        const cut = 20;
        assert.deepEqual(queue.record(oldest, cut), {
          topic: m.topic,
          payload: m.data.slice(0, cut),
          sizeBytes: m.sizeBytes,
          qos: m.qos,
          retain: m.retain,
          receivedAt: m.receivedAt,
          properties: m.properties,
        });
        queue.shift();
        oldest++;
      }
      assert.equal(queue.length, next - oldest);
    }
    assert.ok(next > 20_000, `pushed ${next}`);
    while (queue.length > 0) {
      assert.equal(queue.seqAt(queue.head), oldest + 1);
      queue.shift();
      oldest++;
    }
    assert.equal(oldest, next);
    // Emptied: a new message goes in at the next position, and shifting an empty queue is a no-op.
    assert.equal(queue.push(message(next)), next);
    queue.shift();
    queue.shift();
    assert.equal(queue.length, 0);
  });
});
