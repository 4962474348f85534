/**
 * The tracker's live path for NDATA/DDATA: a cheap walk (sparkplug-scan.ts) takes seq and names,
 * and values are decoded when read. What a reader sees must be exactly what the full decode and
 * view give (the eager path), for every data type, for random metrics and for random bytes; a
 * payload that is not of the plain shape is decoded in full, and a malformed one is counted as a
 * decode error as before. Expectations come from decodeSparkplug + viewSparkplug, payloads from
 * protobufjs' encoder (test/helpers/edge-node.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scanData } from '../../src/decode/sparkplug-scan.js';
import { birthOf, decodeSparkplug, viewSparkplug, type Birth } from '../../src/decode/sparkplug.js';
import { PENDING_PER_TARGET, SPARKPLUG_LIMITS, SparkplugTracker } from '../../src/sparkplug/tracker.js';
import type { StoredMessage } from '../../src/store/types.js';
import { ALL_TYPES, encode, metric } from '../helpers/edge-node.js';
import { randomMetric } from '../helpers/sparkplug-arbitraries.js';

const LIMITS = SPARKPLUG_LIMITS.view;
const MAX = SPARKPLUG_LIMITS.decodeBytes;
let seq = 0;

function stored(topic: string, bytes: Buffer, at: number): StoredMessage {
  return {
    topic,
    payload: bytes,
    data: bytes.toString('latin1'),
    storedBytes: bytes.length,
    qos: 0,
    retain: false,
    receivedAt: at,
    sizeBytes: bytes.length,
    seq: ++seq,
    properties: undefined,
  };
}

/** What the eager path kept: name -> {datatype, value, at}, from the full view. */
function eager(bytes: Buffer, birth: Birth | undefined, at: number): Array<[string, unknown]> {
  const out = new Map<string, unknown>();
  for (const m of viewSparkplug(decodeSparkplug(bytes, MAX), birth, LIMITS).metrics) {
    if (m.name === undefined) continue;
    out.set(m.name, {
      datatype: m.datatype,
      value: m.isNull === true ? null : m.value,
      at: m.timestamp !== undefined ? Date.parse(m.timestamp) : at,
    });
  }
  return [...out];
}

function tracked(t: SparkplugTracker): Array<[string, unknown]> {
  const device = [...t.nodes()][0]?.devices.get('d');
  return [...(device?.metrics ?? [])].map(([name, v]) => [
    name,
    { datatype: v.datatype, value: v.value, at: v.at },
  ]);
}

const BIRTH = encode({ seq: 0, metrics: ALL_TYPES.map((m) => metric(m, { withName: true })) });

function afterBirth(data: Buffer): SparkplugTracker {
  const t = new SparkplugTracker();
  t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', BIRTH, 1));
  t.enqueue(stored('spBv1.0/g/DDATA/e/d', data, 2));
  t.drain();
  return t;
}

const birth = birthOf(decodeSparkplug(BIRTH, MAX), LIMITS.maxMetrics);

describe('lazy DATA values', () => {
  it('every data type by alias: the same values, data types and times as the full decode', () => {
    const data = encode({ seq: 1, metrics: ALL_TYPES.map((m) => metric(m, { withName: false })) });
    // Plain: scalars and arrays, values below 2^53 (wider ones, datasets, templates: decoded in full).
    const scalars = ALL_TYPES.filter(
      (m) =>
        scanData(encode({ metrics: [metric(m, { withName: false })] }).toString('latin1'), MAX, 500) !==
        undefined,
    );
    assert.ok(scalars.length >= 25, `${scalars.length} of ${ALL_TYPES.length} plain`);
    const plain = encode({ seq: 1, metrics: scalars.map((m) => metric(m, { withName: false })) });
    assert.equal(
      scanData(data.toString('latin1'), MAX, 500),
      undefined,
      'datasets and templates are decoded in full',
    );
    assert.ok(scanData(plain.toString('latin1'), MAX, 500) !== undefined);
    for (const payload of [data, plain]) {
      const t = afterBirth(payload);
      assert.deepEqual(tracked(t), mergeBirth(payload));
    }
  });

  it('random plain metrics (names, aliases, nulls, timestamps): the same as the full decode', () => {
    const value = fc.oneof(
      fc.record({ doubleValue: fc.double() }),
      fc.record({ intValue: fc.nat() }),
      fc.record({ longValue: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String) }),
      fc.record({ stringValue: fc.string({ maxLength: 20 }) }),
      fc.record({ booleanValue: fc.boolean() }),
      fc.record({ floatValue: fc.float() }),
    );
    const m = randomMetric(value);
    fc.assert(
      fc.property(fc.array(m, { maxLength: 30 }), fc.option(fc.nat(300)), (metrics, s) => {
        const payload = encode({ ...(s !== null ? { seq: s } : {}), metrics });
        assert.deepEqual(tracked(afterBirth(payload)), mergeBirth(payload));
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes as DDATA: decoded the same, or counted as a decode error as before', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const payload = Buffer.from(bytes);
        let fails = false;
        try {
          decodeSparkplug(payload, MAX);
        } catch {
          fails = true;
        }
        const t = afterBirth(payload);
        assert.equal(t.stats().decodeErrors, fails ? 1 : 0);
        if (!fails) assert.deepEqual(tracked(t), mergeBirth(payload));
      }),
      { numRuns: 3000 },
    );
  });

  it('malformed UTF-8 in a string the walk skips (uuid, a string value) is a decode error, as in the full decode', () => {
    const badUtf8 = Buffer.from([0x00, 0x80, 0xff]);
    const uuid = Buffer.concat([Buffer.from([0x22, badUtf8.length]), badUtf8]);
    const good = encode({ seq: 1, metrics: [{ alias: 3, intValue: 5 }] });
    const stringValue = Buffer.concat([
      Buffer.from([0x12, 2 + 2 + badUtf8.length]),
      Buffer.from([0x10, 0x01]), // alias 1
      Buffer.from([0x7a, badUtf8.length]), // string_value, field 15
      badUtf8,
    ]);
    for (const payload of [
      Buffer.from([34, 6, 0, 0, 0, 128, 0, 0]),
      Buffer.concat([good, uuid]),
      stringValue,
    ]) {
      assert.throws(() => decodeSparkplug(payload, MAX));
      assert.equal(afterBirth(payload).stats().decodeErrors, 1, payload.toString('hex'));
    }
  });

  it('seq from the walk: gaps counted as by the full decode', () => {
    const t = new SparkplugTracker();
    t.enqueue(stored('spBv1.0/g/NBIRTH/e', encode({ seq: 0, metrics: [] }), 1));
    for (const s of [1, 2, 4, 5, 9])
      t.enqueue(stored('spBv1.0/g/NDATA/e', encode({ seq: s, metrics: [] }), 2));
    const node = [...t.nodes()][0];
    assert.equal(node?.seqGaps, 2);
    assert.equal(node?.lastSeq, 9);
  });
});

/** The device's metrics after BIRTH then DATA, as the eager path keeps them (BIRTH values first). */
function mergeBirth(data: Buffer): Array<[string, unknown]> {
  const out = new Map(eager(BIRTH, birth, 1));
  try {
    decodeSparkplug(data, MAX);
  } catch {
    return [...out];
  }
  for (const [k, v] of eager(data, birth, 2)) out.set(k, v);
  return [...out];
}

describe('a lazy value replaced', () => {
  it('a newer DATA after a read: the next read sees the newer value and time', () => {
    const t = new SparkplugTracker();
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', BIRTH, 1));
    const u8 = ALL_TYPES.find((m) => m.name === 'u8');
    assert.ok(u8 !== undefined);
    t.enqueue(
      stored('spBv1.0/g/DDATA/e/d', encode({ metrics: [metric(u8, { withName: false, wire: 7 })] }), 2),
    );
    const first = [...t.nodes()][0]?.devices.get('d')?.metrics.get('u8');
    assert.deepEqual([first?.datatype, first?.value, first?.at], ['UInt8', 7, 2]);
    t.enqueue(
      stored('spBv1.0/g/DDATA/e/d', encode({ metrics: [metric(u8, { withName: false, wire: 9 })] }), 3),
    );
    const v = [...t.nodes()][0]?.devices.get('d')?.metrics.get('u8');
    assert.deepEqual([v?.datatype, v?.value, v?.at], ['UInt8', 9, 3]);
  });

  it('updates by alias in place, then a fully decoded DATA and a rebirth with other aliases: reads follow the newest', () => {
    const t = new SparkplugTracker();
    const u8 = ALL_TYPES.find((m) => m.name === 'u8');
    assert.ok(u8 !== undefined);
    const read = () => {
      const v = [...t.nodes()][0]?.devices.get('d')?.metrics.get('u8');
      return [v?.value, v?.at];
    };
    const byAlias = (wire: number, at: number, alias = u8.alias) =>
      t.enqueue(
        stored(
          'spBv1.0/g/DDATA/e/d',
          encode({ metrics: [{ ...metric(u8, { withName: false, wire }), alias }] }),
          at,
        ),
      );
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', BIRTH, 1));
    for (let i = 2; i <= 5; i++) byAlias(i, i); // the third and later by the per-alias shortcut
    assert.deepEqual(read(), [5, 5]);
    // Metadata is not the plain shape: decoded in full, the kept value replaced by another object.
    t.enqueue(
      stored(
        'spBv1.0/g/DDATA/e/d',
        encode({
          metrics: [{ ...metric(u8, { withName: false, wire: 6 }), metadata: { contentType: 'x' } }],
        }),
        6,
      ),
    );
    assert.deepEqual(read(), [6, 6]);
    byAlias(7, 7);
    byAlias(8, 8);
    assert.deepEqual(read(), [8, 8]);
    // A rebirth gives u8 alias 500: the old alias now names nothing, the new one u8.
    const rebirth = encode({
      seq: 0,
      metrics: ALL_TYPES.map((m) => ({
        ...metric(m, { withName: true }),
        alias: m.name === 'u8' ? 500 : m.alias,
      })),
    });
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', rebirth, 9));
    for (let i = 10; i <= 12; i++) byAlias(i, i, 500);
    byAlias(99, 13);
    assert.deepEqual(read(), [12, 12]);
  });
});

describe('pending DATA', () => {
  // A small BIRTH of doubles by alias, and DATA carrying some or all of them.
  const names = ['a', 'b', 'c'];
  const smallBirth = encode({
    seq: 0,
    metrics: names.map((name, i) => ({ name, alias: i + 1, datatype: 10, doubleValue: 0 })),
  });
  const data = (values: Record<string, number>, own: Record<string, number> = {}) =>
    encode({
      metrics: [
        ...Object.entries(values).map(([n, v]) => ({ alias: names.indexOf(n) + 1, doubleValue: v })),
        ...Object.entries(own).map(([n, v]) => ({ name: n, datatype: 10, doubleValue: v })),
      ],
    });
  const values = (t: SparkplugTracker, device = 'd') =>
    Object.fromEntries(
      [...([...t.nodes()][0]?.devices.get(device)?.metrics ?? [])].map(([n, v]) => [n, [v.value, v.at]]),
    );

  it('many DATA of one device, all metrics each time: reads see the newest, as the eager path does', () => {
    const t = new SparkplugTracker();
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', smallBirth, 1));
    for (let i = 2; i < 2 + PENDING_PER_TARGET * 2 + 5; i++)
      t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ a: i, b: -i, c: i / 2 }), i));
    t.drain();
    assert.ok(t.stats().pending > 0, 'the last ones wait');
    const last = 1 + PENDING_PER_TARGET * 2 + 5;
    assert.deepEqual(values(t), { a: [last, last], b: [-last, last], c: [last / 2, last] });
    assert.equal(t.stats().pending, 0);
  });

  it('an older message is not skipped when newer ones do not set all it sets', () => {
    const t = new SparkplugTracker();
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', smallBirth, 1));
    // Only a and b from here on: c keeps its value from the first DATA; x is a name of its own.
    t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ a: 1, c: 7 }, { x: 9 }), 2));
    for (let i = 3; i < 10; i++) t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ a: i, b: i }), i));
    // Every alias in the newest, but the named metric is only in an older message.
    t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ c: 3 }, { y: 1 }), 10));
    for (let i = 11; i < 20; i++) t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ a: i, b: i, c: i }), i));
    assert.deepEqual(values(t), { a: [19, 19], b: [19, 19], c: [19, 19], x: [9, 2], y: [1, 10] });
  });

  it('a BIRTH drops what was pending for its device; another device keeps its own', () => {
    const t = new SparkplugTracker();
    for (const d of ['d', 'e']) t.enqueue(stored(`spBv1.0/g/DBIRTH/e/${d}`, smallBirth, 1));
    for (const d of ['d', 'e']) t.enqueue(stored(`spBv1.0/g/DDATA/e/${d}`, data({ a: 5 }), 2));
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', smallBirth, 3));
    assert.deepEqual(values(t, 'd'), { a: [0, 3], b: [0, 3], c: [0, 3] });
    assert.deepEqual(values(t, 'e'), { a: [5, 2], b: [0, 1], c: [0, 1] });
  });

  it('pending DATA in all stays within the queue bound, applied oldest device first', () => {
    const t = new SparkplugTracker({ ...SPARKPLUG_LIMITS, queue: 5 });
    // Taken from the queue one by one (its own bound is the same 5).
    const take = (topic: string, bytes: Buffer, at: number) => {
      t.enqueue(stored(topic, bytes, at));
      t.drain();
    };
    for (let d = 0; d < 20; d++) take(`spBv1.0/g/DBIRTH/e/d${d}`, smallBirth, 1);
    for (let d = 0; d < 20; d++) take(`spBv1.0/g/DDATA/e/d${d}`, data({ b: d }), 2);
    const { pending, dropped } = t.stats();
    assert.equal(pending, 5);
    assert.equal(dropped.queue, 0);
    for (let d = 0; d < 20; d++) assert.deepEqual(values(t, `d${d}`).b, [d, 2]);
  });

  it('a device last updated by DATA applied late keeps the newest update time', () => {
    const t = new SparkplugTracker();
    t.enqueue(stored('spBv1.0/g/DBIRTH/e/d', smallBirth, 1));
    t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ a: 1 }), 5));
    // Not plain (metadata): decoded in full, after the pending one is applied.
    t.enqueue(
      stored(
        'spBv1.0/g/DDATA/e/d',
        encode({ metrics: [{ alias: 2, doubleValue: 2, metadata: { contentType: 'x' } }] }),
        6,
      ),
    );
    t.enqueue(stored('spBv1.0/g/DDATA/e/d', data({ c: 3 }), 7));
    assert.deepEqual(values(t), { a: [1, 5], b: [2, 6], c: [3, 7] });
    assert.equal([...t.nodes()][0]?.devices.get('d')?.updatedAt, 7);
  });
});
