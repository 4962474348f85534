/**
 * The history backend contract: what every HistoryBackend (SQLite now, PostgreSQL later) must do,
 * run unchanged against each. No backend specifics here: only the HistoryBackend interface.
 *
 * `open()` gives a new, empty history for one test with default options (read policy `#`,
 * retention 30 days, 1 GiB); `open({ reopen: true, ... })` reopens the store of the previous call
 * (closed by then) with other options, e.g. a narrower policy over the same data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicyRules } from '../../src/policy/acl.js';
import type { HistoryBackend, HistoryRecord } from '../../src/history/types.js';
import { encode } from '../helpers/edge-node.js';

export interface ContractOpenOptions {
  readonly policy?: PolicyRules;
  readonly retentionMs?: number;
  readonly maxBytes?: number;
  readonly reopen?: boolean;
  /** The MQTT session whose packet ids the store keeps (at-least-once recording). */
  readonly session?: string;
}

/** What every contract store is opened with, from the case's options (both backends' tests). */
export function commonOptions(o: ContractOpenOptions = {}) {
  return {
    policy: o.policy ?? { read: ['#'], write: [], deny: [] },
    retentionMs: o.retentionMs ?? 30 * 86_400_000,
    maxBytes: o.maxBytes ?? 2 ** 30,
    maxPayloadBytes: 65_536,
    maxFieldsPerMessage: 32,
    ...(o.session !== undefined ? { session: o.session } : {}),
  };
}

export type ContractOpen = (options?: ContractOpenOptions) => Promise<HistoryBackend>;

const T0 = Date.parse('2026-11-02T00:00:00Z');
const MIN = 60_000;

export function rec(
  topic: string,
  at: number,
  payload = 'x',
  extra: Partial<HistoryRecord> = {},
): HistoryRecord {
  return { topic, payload, sizeBytes: payload.length, qos: 0, retain: false, receivedAt: at, ...extra };
}

async function using(
  open: ContractOpen,
  options: ContractOpenOptions | undefined,
  f: (h: HistoryBackend) => Promise<void>,
) {
  const h = await open(options);
  try {
    await f(h);
  } finally {
    await h.close();
  }
}

export function runContract(name: string, open: ContractOpen): void {
  describe(`history contract: ${name}`, () => {
    it('appends and reads ranges newest first, from inclusive, to exclusive, with limit and more', async () => {
      await using(open, undefined, async (h) => {
        await h.append([rec('a/1', T0, 'p0'), rec('a/2', T0 + 10, 'p1'), rec('b/1', T0 + 20, 'p2')], []);
        await h.append([rec('a/1', T0 + 30, 'p3'), rec('a/1', T0 + 30, 'p4')], []);
        const all = await h.range({ filter: '#', limit: 100 });
        assert.deepEqual(
          all.messages.map((m) => m.payload),
          ['p4', 'p3', 'p2', 'p1', 'p0'],
        );
        assert.equal(all.more, false);
        const a = await h.range({ filter: 'a/+', from: T0 + 10, to: T0 + 30, limit: 100 });
        assert.deepEqual(
          a.messages.map((m) => m.payload),
          ['p1'],
        );
        const cut = await h.range({ filter: 'a/#', limit: 2 });
        assert.deepEqual(
          cut.messages.map((m) => m.payload),
          ['p4', 'p3'],
        );
        assert.equal(cut.more, true);
        const exact = await h.range({ filter: 'a/#', limit: 4 });
        assert.equal(exact.messages.length, 4);
        assert.equal(exact.more, false);
      });
    });

    it('keeps every field of a record: bytes, qos, retain, size, truncation, properties', async () => {
      await using(open, undefined, async (h) => {
        const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
        await h.append(
          [
            rec('bin', T0, bytes, { qos: 2, retain: true }),
            rec('cut', T0 + 1, 'abc', {
              sizeBytes: 1000,
              qos: 1,
              properties: { contentType: 'text/plain', userProperties: { k: ['a', 'b'] } },
            }),
          ],
          [],
        );
        const { messages } = await h.range({ filter: '#', limit: 10 });
        const [cut, bin] = messages;
        assert.deepEqual(bin, { ...rec('bin', T0, bytes, { qos: 2, retain: true }), truncated: false });
        assert.equal(cut!.truncated, true);
        assert.equal(cut!.sizeBytes, 1000);
        assert.equal(cut!.qos, 1);
        assert.deepEqual(cut!.properties, { contentType: 'text/plain', userProperties: { k: ['a', 'b'] } });
      });
    });

    it('does not record a retained replay of the last recorded payload again; a retained change is recorded', async () => {
      await using(open, undefined, async (h) => {
        // Live: the device publishes once (delivered with retain=false), then goes silent.
        await h.append([rec('dev/1', T0, '21.5'), rec('dev/2', T0, 'on', { retain: true })], []);
        // Restart: the broker replays both; the same bytes again, one of them across two restarts.
        await h.append([rec('dev/1', T0 + MIN, '21.5', { retain: true })], []);
        await h.append(
          [
            rec('dev/1', T0 + 2 * MIN, '21.5', { retain: true }),
            rec('dev/2', T0 + 2 * MIN, 'on', { retain: true }),
          ],
          [],
        );
        // Not replays: a retained message with new bytes, the same bytes live, the same bytes cut
        // from a longer original, and a replay of a payload that is no longer the last one.
        await h.append(
          [
            rec('dev/2', T0 + 3 * MIN, 'off', { retain: true }),
            rec('dev/3', T0 + 3 * MIN, 'x'),
            rec('dev/3', T0 + 3 * MIN + 1, 'x'),
            rec('dev/3', T0 + 3 * MIN + 2, 'x', { retain: true, sizeBytes: 5 }),
            rec('dev/2', T0 + 3 * MIN + 3, 'on', { retain: true }),
            rec('dev/2', T0 + 3 * MIN + 4, 'on', { retain: true }),
          ],
          [],
        );
        const dev1 = await h.range({ filter: 'dev/1', limit: 10 });
        assert.deepEqual(
          dev1.messages.map((m) => [m.receivedAt - T0, m.retain]),
          [[0, false]],
        );
        const [topic1] = (await h.topics('dev/1', 10)).topics;
        assert.equal(topic1?.lastAt, T0, 'a replay does not make a silent device look fresh');
        assert.equal(topic1?.records, 1);
        const dev2 = await h.range({ filter: 'dev/2', limit: 10 });
        assert.deepEqual(
          dev2.messages.map((m) => [m.receivedAt - T0, m.payload]),
          [
            [3 * MIN + 3, 'on'],
            [3 * MIN, 'off'],
            [0, 'on'],
          ],
        );
        assert.equal((await h.range({ filter: 'dev/3', limit: 10 })).messages.length, 3);
        const stats = await h.stats();
        assert.equal(stats.records, 7);
        assert.equal(stats.replaysIgnored, 4);
      });
    });

    it('keeps payloads of every size byte for byte, with properties, and reads the latest of each', async () => {
      await using(open, undefined, async (h) => {
        const sizes = [0, 100, 799, 800, 801, 1024, 4096, 16_384, 65_536];
        const body = (n: number) =>
          Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + n) % 256)).toString('latin1');
        const props = { contentType: 'application/octet-stream', userProperties: { k: 'v'.repeat(300) } };
        await h.append(
          sizes.map((n, i) => rec(`big/${n}`, T0 + i, body(n), i % 2 === 0 ? { properties: props } : {})),
          [],
        );
        const { messages } = await h.range({ filter: 'big/#', limit: 100 });
        assert.deepEqual(
          messages.map((m) => [m.topic, m.payload === body(m.payload.length), m.payload.length]),
          sizes.map((n) => [`big/${n}`, true, n]).reverse(),
        );
        assert.deepEqual(
          messages.filter((m) => m.properties !== undefined).map((m) => m.topic),
          sizes
            .filter((_, i) => i % 2 === 0)
            .map((n) => `big/${n}`)
            .reverse(),
        );
        const latest = await h.latest('big/16384', 1);
        assert.equal(latest.messages[0]?.payload, body(16_384));
        // A retained replay of a large payload is recognised too.
        await h.append([rec('big/4096', T0 + 100, body(4096), { retain: true })], []);
        assert.equal((await h.stats()).replaysIgnored, 1);
      });
    });

    it('matches filters exactly: # includes the parent, + one level, wildcards skip $ topics', async () => {
      await using(open, undefined, async (h) => {
        await h.append(
          ['a', 'a/b', 'a/b/c', 'ab', '$SYS/x', 'a/\u{10ffff}', 'b'].map((t, i) => rec(t, T0 + i, t)),
          [],
        );
        const topics = async (filter: string) =>
          (await h.range({ filter, limit: 100 })).messages.map((m) => m.topic).sort();
        assert.deepEqual(await topics('a/#'), ['a', 'a/b', 'a/b/c', 'a/\u{10ffff}'].sort());
        assert.deepEqual(await topics('a/+'), ['a/b', 'a/\u{10ffff}'].sort());
        assert.deepEqual(await topics('#'), ['a', 'a/b', 'a/b/c', 'ab', 'a/\u{10ffff}', 'b'].sort());
        assert.deepEqual(await topics('ab'), ['ab']);
      });
    });

    it('gives the latest record per topic, newest first, and lists topics by name', async () => {
      await using(open, undefined, async (h) => {
        await h.append(
          [
            rec('s/1', T0, 'old', { retain: true }),
            rec('s/2', T0 + 5, 'two'),
            rec('s/1', T0 + 10, 'new1', { retain: true }),
            rec('s/3', T0 + 1, 'three'),
          ],
          [],
        );
        const latest = await h.latest('s/+', 2);
        assert.deepEqual(
          latest.messages.map((m) => m.payload),
          ['new1', 'two'],
        );
        assert.equal(latest.matched, 3);
        const listed = await h.topics('s/#', 2);
        assert.equal(listed.matched, 3);
        assert.deepEqual(listed.topics, [
          { topic: 's/1', records: 2, firstAt: T0, lastAt: T0 + 10, lastRetain: true, lastSizeBytes: 4 },
          { topic: 's/2', records: 1, firstAt: T0 + 5, lastAt: T0 + 5, lastRetain: false, lastSizeBytes: 3 },
        ]);
      });
    });

    it('extracts numbers when writing and summarises them exactly, per topic and field', async () => {
      await using(open, undefined, async (h) => {
        await h.append(
          [
            rec('m/a', T0, '{"temp":20,"ok":true,"name":"x"}'),
            rec('m/a', T0 + 10 * MIN, '{"temp":22,"ok":false}'),
            rec('m/a', T0 + 50 * MIN, '{"temp":30}'),
            rec('m/b', T0 + 5 * MIN, ' 7.5\n'),
            rec('m/c', T0, 'not a number'),
          ],
          [],
        );
        const r = await h.summarize({
          filter: 'm/#',
          from: T0,
          to: T0 + 60 * MIN,
          buckets: 2,
          maxSeries: 10,
        });
        assert.equal(r.more, false);
        assert.deepEqual(
          r.series.map((s) => [s.topic, s.field]),
          [
            ['m/a', 'ok'],
            ['m/a', 'temp'],
            ['m/b', ''],
          ],
        );
        const temp = r.series[1]!;
        assert.equal(temp.count, 3);
        assert.equal(temp.min, 20);
        assert.equal(temp.max, 30);
        assert.equal(temp.mean, 24);
        assert.deepEqual(temp.first, { at: T0, value: 20 });
        assert.deepEqual(temp.last, { at: T0 + 50 * MIN, value: 30 });
        assert.deepEqual(temp.buckets, [
          { start: T0, count: 2, min: 20, max: 22, mean: 21 },
          { start: T0 + 30 * MIN, count: 1, min: 30, max: 30, mean: 30 },
        ]);
        const one = await h.summarize({
          filter: 'm/#',
          field: 'temp',
          from: T0 + MIN,
          to: T0 + 60 * MIN,
          buckets: 1,
          maxSeries: 10,
        });
        assert.deepEqual(
          one.series.map((s) => [s.topic, s.field, s.count]),
          [['m/a', 'temp', 2]],
        );
        const capped = await h.summarize({
          filter: '#',
          from: T0,
          to: T0 + 60 * MIN,
          buckets: 1,
          maxSeries: 2,
        });
        assert.equal(capped.series.length, 2);
        assert.equal(capped.more, true);
        const empty = await h.summarize({
          filter: '#',
          from: T0 + 51 * MIN,
          to: T0 + 60 * MIN,
          buckets: 1,
          maxSeries: 2,
        });
        assert.deepEqual(empty, { series: [], more: false });
      });
    });

    it('after a restart, a resent copy of a committed record is not written again; a resent record never committed is', async () => {
      const held = (topic: string, at: number, mid: number, redelivered = false) =>
        rec(topic, at, `v${mid}`, { qos: 1, mid, redelivered });
      await using(open, { session: 'bridge-r1' }, async (h) => {
        await h.append([held('c/a', T0, 1), held('c/a', T0 + 1, 2), held('c/b', T0 + 2, 3)], []);
        await h.append([held('c/b', T0 + 3, 4)], []);
      });
      // The process died before its PUBACKs: the broker resends 2, 3 and 4 with DUP, and 5, which
      // had not been committed, also with DUP; 6 is new.
      await using(open, { reopen: true, session: 'bridge-r1' }, async (h) => {
        await h.append(
          [
            held('c/a', T0 + 10, 2, true),
            held('c/b', T0 + 11, 3, true),
            held('c/b', T0 + 12, 4, true),
            held('c/b', T0 + 13, 5, true),
            held('c/a', T0 + 14, 6),
          ],
          [],
        );
        const stats = await h.stats();
        assert.equal(stats.records, 6);
        assert.equal(stats.copiesRemoved, 3);
        const read = await h.range({ filter: 'c/#', limit: 100 });
        assert.deepEqual(read.messages.map((m) => m.payload).sort(), ['v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
        // The copies are kept again: resent once more after another crash, still not written.
        await h.append([held('c/b', T0 + 20, 5, true)], []);
        assert.equal((await h.stats()).records, 6);
      });
      // Another session's DUP with the same packet id is its own message.
      await using(open, { reopen: true, session: 'bridge-r2' }, async (h) => {
        await h.append([held('c/a', T0 + 30, 2, true)], []);
        assert.equal((await h.stats()).records, 7);
        assert.equal((await h.stats()).copiesRemoved, 0);
      });
    });

    it('names Sparkplug DATA metrics by the BIRTH recorded before a reopen', async () => {
      await using(open, undefined, async (h) => {
        await h.append([rec('spBv1.0/g/DBIRTH/e/d', T0, SPARKPLUG_BIRTH)], []);
      });
      await using(open, { reopen: true }, async (h) => {
        // The DATA carries the alias only; the name is in the BIRTH recorded before.
        await h.append([rec('spBv1.0/g/DDATA/e/d', T0 + MIN, sparkplugData(21.5))], []);
        const r = await h.summarize({
          filter: 'spBv1.0/g/DDATA/#',
          from: T0,
          to: T0 + 2 * MIN,
          buckets: 1,
          maxSeries: 10,
        });
        assert.deepEqual(
          r.series.map((x) => [x.field, x.last?.value]),
          [['boiler/temp', 21.5]],
        );
      });
    });

    it('finds silent topics by their usual interval, by a fixed threshold, longest silent first', async () => {
      await using(open, undefined, async (h) => {
        const now = T0 + 100 * MIN;
        const steady = Array.from({ length: 20 }, (_, i) => rec('d/steady', now - (19 - i) * 10_000));
        const stopped = Array.from({ length: 20 }, (_, i) =>
          rec('d/stopped', now - 30 * MIN - (19 - i) * 10_000),
        );
        const once = [rec('d/once', now - 60 * MIN)];
        await h.append([...steady, ...stopped, ...once], []);
        const q = { filter: 'd/#', now, factor: 3, floorMs: 60_000, limit: 10 };
        const r = await h.silent(q);
        assert.equal(r.examined, 3);
        assert.deepEqual(
          r.silent.map((s) => s.topic),
          ['d/once', 'd/stopped'],
        );
        const stoppedInfo = r.silent[1]!;
        assert.equal(stoppedInfo.usualIntervalMs, 10_000);
        assert.equal(stoppedInfo.thresholdMs, 60_000); // 3 x 10 s is under the floor
        assert.equal(stoppedInfo.silentMs, 30 * MIN);
        assert.equal(stoppedInfo.records, 20);
        assert.equal(r.silent[0]!.usualIntervalMs, undefined);
        const fixed = await h.silent({ ...q, silentMs: 45 * MIN, limit: 1 });
        assert.deepEqual(
          fixed.silent.map((s) => [s.topic, s.thresholdMs]),
          [['d/once', 45 * MIN]],
        );
        assert.equal(fixed.more, false);
        const limited = await h.silent({ ...q, limit: 1 });
        assert.equal(limited.more, true);
      });
    });

    it('tells bridge-offline periods from link events, open-ended while still down', async () => {
      await using(open, undefined, async (h) => {
        await h.append(
          [],
          [
            { at: T0, state: 'up' },
            { at: T0 + 10, state: 'down' },
            { at: T0 + 20, state: 'up' },
          ],
        );
        await h.append([], [{ at: T0 + 100, state: 'down' }]);
        assert.deepEqual(await h.offline(T0, T0 + 200), [{ from: T0 + 10, to: T0 + 20 }, { from: T0 + 100 }]);
        assert.deepEqual(await h.offline(T0 + 15, T0 + 50), [{ from: T0 + 10, to: T0 + 20 }]);
        assert.deepEqual(await h.offline(T0 + 30, T0 + 50), []);
        assert.deepEqual(await h.offline(T0 + 150, T0 + 160), [{ from: T0 + 100 }]);
      });
    });

    it('prunes by age and forgets topics left empty', async () => {
      await using(open, { retentionMs: 60 * MIN }, async (h) => {
        await h.append([rec('old', T0), rec('both', T0 + MIN), rec('both', T0 + 120 * MIN, '5')], []);
        let removed = 0;
        for (let i = 0; i < 10; i++) removed += await h.prune(T0 + 150 * MIN);
        assert.equal(removed, 2);
        assert.deepEqual(
          (await h.topics('#', 10)).topics.map((t) => [t.topic, t.records, t.firstAt]),
          [['both', 1, T0 + 120 * MIN]],
        );
        const stats = await h.stats();
        assert.equal(stats.records, 1);
        assert.equal(stats.topics, 1);
        assert.equal(stats.oldestAt, T0 + 120 * MIN);
        assert.equal(await h.prune(T0 + 150 * MIN), 0);
      });
    });

    it('prunes by size, oldest first, until under the limit', async () => {
      const maxBytes = 2 * 1024 * 1024;
      await using(open, { maxBytes }, async (h) => {
        const payload = 'v'.repeat(400);
        for (let m = 0; m < 60; m++) {
          await h.append(
            Array.from({ length: 200 }, (_, i) => rec(`z/${i % 20}`, T0 + m * MIN + i, payload)),
            [],
          );
        }
        const before = await h.stats();
        assert.ok(before.bytesOnDisk > maxBytes, `wrote ${before.bytesOnDisk} bytes`);
        for (let i = 0; i < 100 && (await h.prune(T0 + 61 * MIN)) > 0; i++);
        const after = await h.stats();
        assert.ok(after.bytesOnDisk <= maxBytes, `${after.bytesOnDisk} bytes on disk`);
        assert.ok(after.records > 0 && after.records < before.records);
        const kept = await h.range({ filter: '#', limit: 100_000 });
        assert.equal(kept.messages.length, after.records);
        assert.equal(kept.messages[0]!.receivedAt, T0 + 59 * MIN + 199); // the newest stays
        assert.equal(after.oldestAt, Math.min(...kept.messages.map((m) => m.receivedAt)));
      });
    });

    it('applies the current policy to the past', async () => {
      await using(open, undefined, async (h) => {
        await h.append(
          [rec('p/open', T0, '1'), rec('p/secret', T0 + 1, '2'), rec('q/other', T0 + 2, '3')],
          [],
        );
      });
      const narrow = { read: ['p/#'], write: [], deny: ['p/secret'] };
      await using(open, { reopen: true, policy: narrow }, async (h) => {
        const topicsOf = (ms: readonly { topic: string }[]) => ms.map((m) => m.topic);
        assert.deepEqual(topicsOf((await h.range({ filter: '#', limit: 10 })).messages), ['p/open']);
        assert.deepEqual(topicsOf((await h.latest('#', 10)).messages), ['p/open']);
        assert.deepEqual((await h.latest('#', 10)).matched, 1);
        assert.deepEqual(topicsOf((await h.topics('#', 10)).topics), ['p/open']);
        const s = await h.summarize({ filter: '#', from: T0, to: T0 + 10, buckets: 1, maxSeries: 10 });
        assert.deepEqual(topicsOf(s.series), ['p/open']);
        const silent = await h.silent({
          filter: '#',
          now: T0 + 100 * MIN,
          factor: 3,
          floorMs: 1000,
          limit: 10,
        });
        assert.deepEqual(topicsOf(silent.silent), ['p/open']);
        assert.equal(silent.examined, 1);
      });
    });
  });
}

/** A DBIRTH naming alias 7 `boiler/temp` (Double), and a DDATA with that alias only, as latin1. */
export const SPARKPLUG_BIRTH = encode({
  seq: 0,
  metrics: [{ name: 'boiler/temp', alias: 7, datatype: 10, doubleValue: 20 }],
}).toString('latin1');

export function sparkplugData(value: number): string {
  return encode({ seq: 1, metrics: [{ alias: 7, doubleValue: value }] }).toString('latin1');
}
