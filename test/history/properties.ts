/**
 * Properties of a history backend over random appends (fast-check, a fixed seed so a failure
 * replays): summaries equal summarizePoints over the same points; range reads equal a filter over
 * everything appended; pruning never removes a record newer than one it keeps. Run unchanged
 * against SQLite (test/unit/history-properties.test.ts) and PostgreSQL
 * (test/integration/history-postgres-properties.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { summarizePoints } from '../../src/history/numeric.js';
import type { HistoryBackend, HistoryOptions, HistoryRecord } from '../../src/history/types.js';

/** A new, empty history; read policy '#', retention one day, 1 GiB unless given. */
export type PropertyOpen = (
  o?: Partial<Pick<HistoryOptions, 'retentionMs' | 'maxBytes'>>,
) => Promise<HistoryBackend>;

const T0 = Date.parse('2026-11-02T00:00:00Z');
const TOPICS = ['a', 'a/x', 'a/y', 'b/x'];

const recordArb = fc.record({
  topic: fc.constantFrom(...TOPICS),
  offset: fc.integer({ min: 0, max: 3_600_000 }),
  value: fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: -5, max: 5 })),
});
const recordsArb = fc.array(recordArb, { minLength: 1, maxLength: 60 });

const toRecord = (r: { topic: string; offset: number; value: number }): HistoryRecord => {
  const payload = JSON.stringify({ v: r.value });
  return {
    topic: r.topic,
    payload,
    sizeBytes: payload.length,
    qos: 0,
    retain: false,
    receivedAt: T0 + r.offset,
  };
};

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

export function runProperties(name: string, open: PropertyOpen): void {
  describe(`history properties (${name})`, () => {
    it('summaries equal summarizePoints over the same points', async () => {
      await fc.assert(
        fc.asyncProperty(
          recordsArb,
          fc.integer({ min: 1, max: 30 }),
          fc.integer({ min: 0, max: 3_000_000 }),
          fc.integer({ min: 1, max: 3_600_001 }),
          async (rs, buckets, fromOff, span) => {
            const h = await open();
            try {
              const records = rs.map(toRecord);
              await h.append(records, []);
              const from = T0 + fromOff;
              const to = from + span;
              const got = await h.summarize({ filter: '#', field: 'v', from, to, buckets, maxSeries: 100 });
              for (const topic of TOPICS) {
                const points = records
                  .filter((r) => r.topic === topic)
                  .map((r) => ({ at: r.receivedAt, value: (JSON.parse(r.payload) as { v: number }).v }));
                const want = summarizePoints(points, from, to, buckets);
                const s = got.series.find((x) => x.topic === topic);
                if (want === undefined) {
                  assert.equal(s, undefined);
                  continue;
                }
                assert.ok(s !== undefined, topic);
                assert.deepEqual(
                  [s.count, s.min, s.max, s.first, s.last],
                  [want.count, want.min, want.max, want.first, want.last],
                );
                assert.ok(close(s.mean, want.mean), `${s.mean} vs ${want.mean}`);
                assert.equal(s.buckets.length, want.buckets.length);
                s.buckets.forEach((b, i) => {
                  const w = want.buckets[i]!;
                  assert.deepEqual([b.start, b.count, b.min, b.max], [w.start, w.count, w.min, w.max]);
                  assert.ok(b.mean === w.mean || close(b.mean!, w.mean!), `bucket ${i}`);
                });
              }
            } finally {
              await h.close();
            }
          },
        ),
        { numRuns: 25, seed: 12 },
      );
    });

    it('range reads equal a filter over everything appended', async () => {
      const h = await open();
      try {
        const appended: Array<HistoryRecord & { order: number }> = [];
        await fc.assert(
          fc.asyncProperty(
            recordsArb,
            fc.constantFrom('#', 'a/#', 'a/+', 'a', 'b/x', '+/x'),
            fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
            fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }),
            fc.integer({ min: 1, max: 50 }),
            async (rs, filter, fromOff, toOff, limit) => {
              const batch = rs.map(toRecord);
              await h.append(batch, []);
              for (const r of batch) appended.push({ ...r, order: appended.length });
              const from = fromOff === undefined ? undefined : T0 + fromOff;
              const to = toOff === undefined ? undefined : T0 + toOff;
              const levels = (t: string) => t.split('/');
              const matches = (t: string) =>
                filter === '#' ||
                (filter === 'a/#' && (t === 'a' || t.startsWith('a/'))) ||
                (filter === 'a/+' && levels(t).length === 2 && levels(t)[0] === 'a') ||
                (filter === '+/x' && levels(t).length === 2 && levels(t)[1] === 'x') ||
                filter === t;
              const want = appended
                .filter(
                  (r) =>
                    matches(r.topic) &&
                    (from === undefined || r.receivedAt >= from) &&
                    (to === undefined || r.receivedAt < to),
                )
                .sort((a, b) => b.receivedAt - a.receivedAt || b.order - a.order);
              const got = await h.range({ filter, from, to, limit });
              assert.deepEqual(
                got.messages.map((m) => [m.topic, m.receivedAt, m.payload]),
                want.slice(0, limit).map((m) => [m.topic, m.receivedAt, m.payload]),
              );
              assert.equal(got.more, want.length > limit);
            },
          ),
          { numRuns: 40, seed: 12 },
        );
      } finally {
        await h.close();
      }
    });

    it('pruning never removes a record newer than one it keeps', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              topic: fc.constantFrom(...TOPICS),
              minute: fc.integer({ min: 0, max: 300 }),
              pad: fc.integer({ min: 0, max: 3000 }),
            }),
            {
              minLength: 1,
              maxLength: 300,
            },
          ),
          fc.integer({ min: 0, max: 400 }),
          async (rs, nowMinute) => {
            const h = await open({ retentionMs: 100 * 60_000, maxBytes: 256 * 1024 });
            try {
              const records = rs.map((r, i): HistoryRecord => {
                const payload = 'p'.repeat(r.pad);
                return {
                  topic: r.topic,
                  payload,
                  sizeBytes: payload.length,
                  qos: 0,
                  retain: false,
                  receivedAt: T0 + r.minute * 60_000 + i,
                };
              });
              await h.append(records, []);
              for (let i = 0; i < 3; i++) await h.prune(T0 + nowMinute * 60_000);
              const kept = (await h.range({ filter: '#', limit: 100_000 })).messages;
              const keptAt = new Set(kept.map((m) => m.receivedAt));
              const oldestKept = Math.min(...kept.map((m) => m.receivedAt));
              for (const r of records) {
                if (!keptAt.has(r.receivedAt))
                  assert.ok(r.receivedAt < oldestKept, `removed ${r.receivedAt}, kept ${oldestKept}`);
              }
            } finally {
              await h.close();
            }
          },
        ),
        { numRuns: 15, seed: 12 },
      );
    });
  });
}
