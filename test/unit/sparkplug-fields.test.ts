/**
 * SparkplugFields' lookup of BIRTHs it has not seen (for a writer whose store answers
 * asynchronously, PostgreSQL): which BIRTH topics a batch needs, a miss asked again only after
 * 10 s, a BIRTH found or seen never asked for again, and DATA named by what was seeded. And the
 * fields of a DATA read by the walk: exactly what the full decode and view give (numericMetrics of
 * viewSparkplug), for every data type, random metrics and random bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { birthOf, decodeSparkplug, viewSparkplug, type Birth } from '../../src/decode/sparkplug.js';
import { numericMetrics, SparkplugFields } from '../../src/history/sparkplug-fields.js';
import { SPARKPLUG_BIRTH, sparkplugData } from '../history/contract.js';
import { ALL_TYPES, encode, metric } from '../helpers/edge-node.js';
import { randomMetric } from '../helpers/sparkplug-arbitraries.js';

const DDATA = 'spBv1.0/g/DDATA/e/d';
const DBIRTH = 'spBv1.0/g/DBIRTH/e/d';

describe('SparkplugFields: BIRTHs looked up', () => {
  it('asks for the BIRTH of each node and device of the DATA, once per batch, and nothing for other topics', () => {
    const f = new SparkplugFields();
    const batch = [DDATA, DDATA, 'spBv1.0/g/NDATA/e', 'plant/a', 'spBv1.0/g/DBIRTH/e/x'].map((topic) => ({
      topic,
    }));
    assert.deepEqual(f.needed(batch), [DBIRTH, 'spBv1.0/g/NBIRTH/e']);
  });

  it('a miss is asked again only after 10 s; a BIRTH found is never asked again and names the DATA', () => {
    let now = 1_000_000;
    const f = new SparkplugFields(undefined, () => now);
    const batch = [{ topic: DDATA }];
    f.seed(f.needed(batch), new Map());
    assert.deepEqual(f.needed(batch), [], 'within 10 s of a miss');
    assert.deepEqual(f.fields(DDATA, sparkplugData(3), 10), [], 'unnamed: the alias alone is no field');
    now += 10_001;
    const asked = f.needed(batch);
    assert.deepEqual(asked, [DBIRTH]);
    f.seed(asked, new Map([[DBIRTH, SPARKPLUG_BIRTH]]));
    assert.deepEqual(f.needed(batch), []);
    now += 60_000;
    assert.deepEqual(f.needed(batch), [], 'known now');
    assert.deepEqual(f.fields(DDATA, sparkplugData(21.5), 10), [{ field: 'boiler/temp', value: 21.5 }]);
  });

  it('a BIRTH seen in the stream ends a pending miss, and a seeded older BIRTH does not replace it', () => {
    const f = new SparkplugFields();
    f.seed(f.needed([{ topic: DDATA }]), new Map());
    f.fields(DBIRTH, SPARKPLUG_BIRTH, 10);
    assert.deepEqual(f.needed([{ topic: DDATA }]), []);
    const older = Buffer.from(SPARKPLUG_BIRTH, 'latin1')
      .toString('latin1')
      .replace('boiler/temp', 'boiler/tmpx');
    f.seed([DBIRTH], new Map([[DBIRTH, older]]));
    assert.deepEqual(f.fields(DDATA, sparkplugData(1), 10), [{ field: 'boiler/temp', value: 1 }]);
  });
});

/** What the writer recorded before the walk: the full decode, the view, numericMetrics. */
function reference(payload: Buffer, birth: Birth | undefined, max: number): unknown {
  let raw;
  try {
    raw = decodeSparkplug(payload, 1024 * 1024);
  } catch {
    return [];
  }
  return numericMetrics(
    viewSparkplug(raw, birth, { maxMetrics: 1000, maxElements: 0, maxDepth: 1 }).metrics,
    max,
  );
}

describe('SparkplugFields: DATA read by the walk', () => {
  const birthBytes = encode({ seq: 0, metrics: ALL_TYPES.map((m) => metric(m, { withName: true })) });
  const birth = birthOf(decodeSparkplug(birthBytes, 1024 * 1024), 1000);
  const fields = (payload: Buffer, max = 64) => {
    const f = new SparkplugFields();
    f.fields(DBIRTH, birthBytes.toString('latin1'), max);
    return f.fields(DDATA, payload.toString('latin1'), max);
  };

  it('every data type by alias, and by name: the same fields as the full decode', () => {
    for (const withName of [false, true]) {
      const data = encode({ seq: 1, metrics: ALL_TYPES.map((m) => metric(m, { withName })) });
      assert.deepEqual(fields(data), reference(data, birth, 64));
      for (const m of ALL_TYPES) {
        const one = encode({ seq: 1, metrics: [metric(m, { withName })] });
        assert.deepEqual(fields(one), reference(one, birth, 64), m.name);
      }
    }
    const signed = encode({ metrics: ALL_TYPES.slice(0, 3).map((m) => metric(m, { withName: false })) });
    assert.deepEqual(fields(signed), [
      { field: 'i8', value: -1 },
      { field: 'i16', value: -32768 },
      { field: 'i32', value: -2 },
    ]);
  });

  it('random metrics (names, aliases, data types, nulls, every value field) and caps: the same as the full decode', () => {
    const value = fc.oneof(
      fc.record({ doubleValue: fc.double() }),
      fc.record({ intValue: fc.nat({ max: 2 ** 32 - 1 }) }),
      fc.record({ longValue: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String) }),
      fc.record({ stringValue: fc.oneof(fc.string({ maxLength: 20 }), fc.double().map(String)) }),
      fc.record({ booleanValue: fc.boolean() }),
      fc.record({ floatValue: fc.float() }),
      fc.constant({}),
    );
    const m = randomMetric(value);
    fc.assert(
      fc.property(fc.array(m, { maxLength: 30 }), fc.integer({ min: 1, max: 40 }), (metrics, max) => {
        const payload = encode({ seq: 1, metrics });
        assert.deepEqual(fields(payload, max), reference(payload, birth, max));
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes as DDATA: the same fields as the full decode, or none when it refuses them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const payload = Buffer.from(bytes);
        assert.deepEqual(fields(payload), reference(payload, birth, 64));
      }),
      { numRuns: 3000 },
    );
  });

  it('uint32 fields in varints wider than 32 bits: their low 32 bits, as protobufjs reads them', () => {
    // name "x" (no BIRTH entry), datatype 2^32 + 1 (Int8) in 6 bytes, int_value 2^32 + 255.
    const wide = (v: number) => {
      const out: number[] = [];
      for (; v >= 128; v = Math.floor(v / 128)) out.push((v % 128) | 128);
      return [...out, v];
    };
    const metricBytes = Buffer.from([
      0x0a,
      1,
      0x78,
      0x20,
      ...wide(2 ** 32 + 1),
      0x50,
      ...wide(2 ** 32 + 255),
    ]);
    const payload = Buffer.concat([Buffer.from([0x12, metricBytes.length]), metricBytes]);
    assert.deepEqual(reference(payload, birth, 64), [{ field: 'x', value: -1 }]);
    assert.deepEqual(fields(payload), [{ field: 'x', value: -1 }]);
  });
});
