/**
 * The recorder between the ingest path and a history backend: batches in order, bounded while the
 * backend is slow or failing (the oldest dropped and counted by cause), paused with the reason on a
 * fault and recording again when it clears, written through to a real SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Recorder, RECORD_BYTES } from '../../src/history/recorder.js';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import { HistoryFault, type HistoryBackend, type HistoryRecord } from '../../src/history/types.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { MessageStore } from '../../src/store/message-store.js';
import type { StoredMessage } from '../../src/store/types.js';
import { sleep } from '../helpers/broker.js';

const logger = createLogger({ level: 'silent', scrubber: new Scrubber() });
const LIMITS = {
  maxTopics: 1000,
  maxMessagesPerTopic: 1000,
  maxBytes: 64 << 20,
  maxAgeMs: 3_600_000,
  maxPayloadBytes: 4096,
};

function messages(n: number, topic = 'plant/a'): StoredMessage[] {
  const store = new MessageStore(LIMITS);
  const out: StoredMessage[] = [];
  for (let i = 0; i < n; i++) {
    const m = store.append(topic, Buffer.from(String(i)), 0, false, undefined, 1_000_000 + i);
    if (m !== undefined) out.push(m);
  }
  return out;
}

/** A backend whose append waits until released, or fails with a fault: the recorder's own logic. */
class Gate implements Pick<HistoryBackend, 'append' | 'close' | 'prune'> {
  batches: HistoryRecord[][] = [];
  fault: HistoryFault | undefined;
  private release: (() => void) | undefined;
  blocked = false;
  async append(records: readonly HistoryRecord[]): Promise<void> {
    if (this.fault !== undefined) throw this.fault;
    if (this.blocked) await new Promise<void>((r) => (this.release = r));
    this.batches.push([...records]);
  }
  open(): void {
    this.blocked = false;
    this.release?.();
  }
  async prune(): Promise<number> {
    return 0;
  }
  async close(): Promise<void> {}
}

const options = (over: Partial<ConstructorParameters<typeof Recorder>[1]> = {}) => ({
  topics: ['#'],
  maxPayloadBytes: 4096,
  flushMs: 10,
  queueMax: 100,
  queueMaxBytes: 1 << 20,
  ...over,
});

describe('the recorder', () => {
  it('hands every message over in order, in batches, and knows what is written', async () => {
    const gate = new Gate();
    const r = new Recorder(gate as unknown as HistoryBackend, options({ batchMax: 7 }), logger);
    r.start();
    const all = messages(50);
    for (const m of all) r.enqueue(m);
    const until = Date.now() + 5000;
    while (r.status().written < 50 && Date.now() < until) await sleep(5);
    assert.deepEqual(
      gate.batches.flat().map((x) => x.payload),
      all.map((m) => m.data),
    );
    assert.ok(gate.batches.every((b) => b.length <= 7));
    assert.equal(r.writtenSeq, all.at(-1)?.seq);
    await r.stop();
  });

  it('a backlog of full batches goes out one after another, not one batch per flush interval', async () => {
    const gate = new Gate();
    const r = new Recorder(
      gate as unknown as HistoryBackend,
      options({ flushMs: 1000, batchMax: 10 }),
      logger,
    );
    for (const m of messages(100)) r.enqueue(m);
    const started = Date.now();
    r.start();
    // One batch per interval would take ten intervals; chained, the first tick writes them all.
    while (r.status().written < 100 && Date.now() - started < 3 * 1000) await sleep(10);
    assert.equal(r.status().written, 100, `written within three flush intervals: ${r.status().written}`);
    assert.equal(gate.batches.length, 10);
    await r.stop();
  });

  it('a slow backend: the queue stays within its bounds, the oldest go first and are counted', async () => {
    const gate = new Gate();
    gate.blocked = true;
    const r = new Recorder(
      gate as unknown as HistoryBackend,
      options({ queueMax: 100, batchMax: 10 }),
      logger,
    );
    r.start();
    await sleep(30);
    const all = messages(1000);
    for (const m of all) r.enqueue(m);
    const s = r.status();
    assert.ok(s.queued <= 100 + 10, `queued ${s.queued}`);
    assert.equal(s.dropped.queueFull, 1000 - 100);
    gate.open();
    const until = Date.now() + 5000;
    while (r.status().queued > 0 && Date.now() < until) await sleep(5);
    // What was kept is the newest, in order.
    assert.deepEqual(
      gate.batches.flat().map((x) => x.payload),
      all.slice(-100).map((m) => m.data),
    );
    await r.stop();
  });

  it('bounds the queue by payload bytes too', () => {
    const gate = new Gate();
    const r = new Recorder(
      gate as unknown as HistoryBackend,
      options({ queueMax: 1_000_000, queueMaxBytes: 100 * (RECORD_BYTES + 10) }),
      logger,
    );
    for (const m of messages(1000, 'plant/abc')) r.enqueue(m);
    assert.ok(r.status().queued <= 100, `queued ${r.status().queued}`);
    assert.ok(r.status().dropped.queueFull >= 900);
  });

  it('a fault pauses with its reason, drops are counted as while paused, and recording resumes', async () => {
    const gate = new Gate();
    gate.fault = new HistoryFault('full', 'the disk holding /data/history.db is full');
    const r = new Recorder(gate as unknown as HistoryBackend, options({ queueMax: 10 }), logger);
    r.start();
    for (const m of messages(5)) r.enqueue(m);
    let until = Date.now() + 5000;
    while (r.status().state !== 'paused' && Date.now() < until) await sleep(5);
    assert.equal(r.status().state, 'paused');
    assert.match(r.status().reason ?? '', /full/);
    for (const m of messages(20)) r.enqueue(m);
    assert.ok(r.status().dropped.whilePaused > 0);
    gate.fault = undefined;
    until = Date.now() + 5000;
    while (r.status().state !== 'recording' && Date.now() < until) await sleep(20);
    assert.equal(r.status().state, 'recording');
    assert.ok(gate.batches.flat().length > 0, 'the failed batch was written after the fault cleared');
    await r.stop();
  });

  it('only the topics of HISTORY_TOPICS, cut to HISTORY_MAX_PAYLOAD_BYTES', async () => {
    const gate = new Gate();
    const r = new Recorder(
      gate as unknown as HistoryBackend,
      options({ topics: ['plant/keep/#'], maxPayloadBytes: 2 }),
      logger,
    );
    const store = new MessageStore(LIMITS);
    r.enqueue(store.append('plant/keep/x', Buffer.from('12345'), 0, false, undefined, 1)!);
    r.enqueue(store.append('plant/drop/x', Buffer.from('1'), 0, false, undefined, 2)!);
    await r.stop();
    assert.deepEqual(
      gate.batches.flat().map((x) => [x.topic, x.payload, x.sizeBytes]),
      [['plant/keep/x', '12', 5]],
    );
  });

  it('through to a real SQLite file: what was enqueued reads back after stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-recorder-'));
    try {
      const open = () =>
        SqliteHistory.open({
          location: join(dir, 'h.db'),
          policy: { read: ['#'], write: [], deny: [] },
          retentionMs: 86_400_000 * 365 * 100,
          maxBytes: 1 << 30,
          maxPayloadBytes: 4096,
          maxFieldsPerMessage: 32,
        });
      const r = new Recorder(await open(), options({ queueMax: 1000 }), logger);
      r.start();
      for (const m of messages(300)) r.enqueue(m);
      await r.stop();
      const again = await open();
      try {
        const read = await again.range({ filter: 'plant/#', limit: 1000 });
        assert.equal(read.messages.length, 300);
        assert.equal(read.messages[0]?.payload, '299');
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the recorder with held acknowledgements (at-least-once recording)', () => {
  /** A hold function per message and the order its acknowledgement was sent in. */
  function holds(n: number) {
    const acked: number[] = [];
    const hold = (i: number) => () => () => {
      acked.push(i);
    };
    return { acked, hold, all: messages(n) };
  }

  it('acknowledges a message only once the batch holding it is written', async () => {
    const gate = new Gate();
    gate.blocked = true;
    const r = new Recorder(gate as unknown as HistoryBackend, options({ queueMax: 1000 }), logger);
    r.start();
    const { acked, hold, all } = holds(20);
    all.forEach((m, i) => r.enqueue(m, hold(i)));
    await sleep(50);
    assert.deepEqual(acked, [], 'nothing acknowledged while the write is under way');
    gate.open();
    const until = Date.now() + 5000;
    while (r.status().written < 20 && Date.now() < until) await sleep(5);
    assert.deepEqual(
      acked,
      all.map((_, i) => i),
    );
    assert.equal(r.status().ackedUnwritten, 0);
    await r.stop();
  });

  it('a record dropped from a full queue is acknowledged at once and counted', () => {
    const gate = new Gate();
    const r = new Recorder(gate as unknown as HistoryBackend, options({ queueMax: 100 }), logger);
    const { acked, hold, all } = holds(105);
    all.forEach((m, i) => r.enqueue(m, hold(i)));
    assert.deepEqual(acked, [0, 1, 2, 3, 4]);
    assert.equal(r.status().dropped.queueFull, 5);
    assert.equal(r.status().ackedUnwritten, 5);
  });

  it('with a link to pause, a full queue of held records stops its intake instead: nothing dropped or acknowledged unwritten', async () => {
    const gate = new Gate();
    gate.blocked = true;
    const pauses: string[] = [];
    const intake = {
      pauseIntake: () => {
        pauses.push('pause');
        return () => pauses.push('resume');
      },
    };
    const r = new Recorder(
      gate as unknown as HistoryBackend,
      options({ queueMax: 100, batchMax: 50, flushMs: 5, intake }),
      logger,
    );
    r.start();
    const { acked, hold, all } = holds(400);
    // A link feeds the recorder until its intake is paused, then waits for resume.
    let next = 0;
    const feed = () => {
      while (next < all.length && pauses.at(-1) !== 'pause')
        r.enqueue(all[next] as StoredMessage, hold(next++));
    };
    feed();
    // The 101st record paused the intake; taking the first batch (50, blocked in the backend)
    // leaves room, so it resumes, and the queue fills to 101 again.
    assert.equal(next, 101);
    assert.deepEqual(pauses, ['pause']);
    await sleep(30);
    assert.deepEqual(pauses, ['pause', 'resume']);
    feed();
    assert.equal(next, 151);
    await sleep(30);
    assert.deepEqual(pauses, ['pause', 'resume', 'pause'], 'no room while the batch is not written');
    assert.deepEqual(acked, [], 'nothing acknowledged before its commit');
    assert.deepEqual(r.status().dropped, { queueFull: 0, whilePaused: 0 });
    gate.open();
    const until = Date.now() + 5000;
    while (r.status().written < 400 && Date.now() < until) {
      if (pauses.at(-1) === 'resume') feed();
      await sleep(2);
    }
    assert.equal(r.status().written, 400);
    assert.deepEqual(
      acked,
      all.map((_, i) => i),
      'every message acknowledged after its commit, in order',
    );
    assert.deepEqual(r.status().dropped, { queueFull: 0, whilePaused: 0 });
    assert.equal(r.status().ackedUnwritten, 0);
    assert.ok(r.status().intakePauses >= 2, `paused ${r.status().intakePauses} times`);
    assert.equal(pauses.filter((p) => p === 'pause').length, r.status().intakePauses);
    await r.stop();
    assert.equal(pauses.at(-1), 'resume', 'never left paused');
  });

  it('paused: what was held is acknowledged when the fault begins, and nothing new is held', async () => {
    const gate = new Gate();
    gate.fault = new HistoryFault('full', 'the disk is full');
    const r = new Recorder(gate as unknown as HistoryBackend, options({ queueMax: 1000 }), logger);
    r.start();
    const { acked, hold, all } = holds(10);
    all.slice(0, 5).forEach((m, i) => r.enqueue(m, hold(i)));
    const until = Date.now() + 5000;
    while (r.status().state !== 'paused' && Date.now() < until) await sleep(5);
    assert.deepEqual(acked, [0, 1, 2, 3, 4]);
    let held = 0;
    for (const m of all.slice(5))
      r.enqueue(m, () => {
        held++;
        return () => undefined;
      });
    assert.equal(held, 0, 'not held while paused (acknowledged on arrival)');
    assert.equal(r.status().ackedUnwritten, 10);
    assert.equal(r.status().queued, 10, 'still queued for writing when history returns');
    await r.stop(10);
  });
});
