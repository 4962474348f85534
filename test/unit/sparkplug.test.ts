/**
 * Sparkplug B: the strict topic namespace, every data type of Sparkplug 3.0 decoded to the value a
 * reader must see (signed from the unsigned fields, 64-bit beyond 2^53 as text), aliases resolved
 * by the BIRTH in effect, unresolved ones flagged, and hostile payloads refused as errors, never a
 * crash or a hang. Payloads are made with protobufjs' encoder from the definitions
 * (test/helpers/edge-node.ts), not with the code under test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  birthOf,
  decodeSparkplug,
  parseSparkplugTopic,
  SparkplugDecodeError,
  viewSparkplug,
} from '../../src/decode/sparkplug.js';
import { SparkplugTracker } from '../../src/sparkplug/tracker.js';
import type { StoredMessage } from '../../src/store/types.js';
import { ALL_TYPES, encode, metric } from '../helpers/edge-node.js';

const LIMITS = { maxMetrics: 500, maxElements: 100, maxDepth: 8 };
const MAX = 1 << 20;

describe('the Sparkplug topic namespace', () => {
  const OK: Array<[string, unknown]> = [
    ['spBv1.0/g/NBIRTH/e', { group: 'g', type: 'NBIRTH', edge: 'e', device: undefined }],
    ['spBv1.0/g/DDATA/e/d', { group: 'g', type: 'DDATA', edge: 'e', device: 'd' }],
    ['spBv1.0/plant 1/NCMD/E7', { group: 'plant 1', type: 'NCMD', edge: 'E7', device: undefined }],
  ];
  for (const [topic, parsed] of OK)
    it(`${topic} is Sparkplug`, () => assert.deepEqual(parseSparkplugTopic(topic), parsed));
  for (const topic of [
    'spBv1.0/STATE/host',
    'spBv1.0/g/NDATA/e/d',
    'spBv1.0/g/DDATA/e',
    'spBv1.0/g/XDATA/e',
    'spBv1.0//NDATA/e',
    'spBv1.0/g/NDATA/e/d/x',
    'spAv1.0/g/NDATA/e',
    'plant/line1/temperature',
  ])
    it(`${topic} is not`, () => assert.equal(parseSparkplugTopic(topic), undefined));
});

describe('decoding every data type', () => {
  const birth = birthOf(
    decodeSparkplug(encode({ metrics: ALL_TYPES.map((m) => metric(m, { withName: true })) }), MAX),
    500,
  );
  const data = decodeSparkplug(
    encode({
      timestamp: 1700000000000,
      seq: 7,
      metrics: ALL_TYPES.map((m) => metric(m, { withName: false })),
    }),
    MAX,
  );
  const view = viewSparkplug(data, birth, LIMITS);

  it('the payload timestamp and seq', () => {
    assert.equal(view.timestamp, '2023-11-14T22:13:20.000Z');
    assert.equal(view.seq, 7);
  });
  for (const m of ALL_TYPES) {
    it(`${m.name} (${m.datatype}) by alias, named from the BIRTH`, () => {
      const shown = view.metrics.find((v) => v.alias === m.alias);
      assert.ok(shown !== undefined);
      assert.equal(shown.name, m.name);
      assert.equal(shown.unresolved, undefined);
      assert.deepEqual(shown.value, m.expected);
    });
  }

  it('an alias no BIRTH declared: alias, no name, unresolved, the raw value', () => {
    const unresolved = viewSparkplug(data, undefined, LIMITS);
    const i32 = unresolved.metrics.find((v) => v.alias === 3);
    assert.deepEqual(i32, { alias: 3, unresolved: true, value: 4294967294 });
  });

  it('bdSeq, null values, historical and transient flags, properties', () => {
    const p = decodeSparkplug(
      encode({
        metrics: [
          { name: 'bdSeq', datatype: 8, longValue: 42 },
          { name: 'n', datatype: 3, isNull: true },
          { name: 'h', datatype: 10, doubleValue: 1, isHistorical: true, isTransient: true },
          {
            name: 'temp',
            datatype: 10,
            doubleValue: 21.5,
            properties: { keys: ['engUnit'], values: [{ type: 12, stringValue: '°C' }] },
          },
        ],
      }),
      MAX,
    );
    assert.equal(birthOf(p, 500).bdSeq, '42');
    const v = viewSparkplug(p, undefined, LIMITS);
    assert.deepEqual(v.metrics[1], { name: 'n', datatype: 'Int32', value: null, isNull: true });
    assert.equal(v.metrics[2]?.historical, true);
    assert.deepEqual(v.metrics[3]?.properties, { engUnit: '°C' });
  });

  it('limits: metrics and array elements beyond them are counted, not shown', () => {
    const many = decodeSparkplug(
      encode({
        metrics: Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, datatype: 7, intValue: i })),
      }),
      MAX,
    );
    const v = viewSparkplug(many, undefined, { ...LIMITS, maxMetrics: 5 });
    assert.equal(v.metrics.length, 5);
    assert.equal(v.omittedMetrics, 15);
    const big = decodeSparkplug(
      encode({ metrics: [{ name: 'a', datatype: 26, bytesValue: Buffer.alloc(1000) }] }),
      MAX,
    );
    const arr = viewSparkplug(big, undefined, { ...LIMITS, maxElements: 10 }).metrics[0];
    assert.equal((arr?.value as unknown[]).length, 10);
    assert.equal(arr?.omitted, 990);
  });
});

describe('hostile payloads', () => {
  it('random bytes decode or fail with SparkplugDecodeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        try {
          const raw = decodeSparkplug(bytes, MAX);
          viewSparkplug(raw, birthOf(raw, 500), LIMITS);
        } catch (error) {
          assert.ok(error instanceof SparkplugDecodeError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('nesting past the recursion limit, lengths past the buffer, oversize payloads: errors', () => {
    // Template -> Metric -> Template ... 10,000 deep, hand-encoded.
    let inner = Buffer.alloc(0);
    for (let i = 0; i < 10_000; i++) {
      const metricBytes = Buffer.concat([Buffer.from([0x92, 0x01]), varint(inner.length), inner]); // field 18
      inner = Buffer.concat([Buffer.from([0x12]), varint(metricBytes.length), metricBytes]); // Template.metrics = 2
    }
    const top = Buffer.concat([Buffer.from([0x92, 0x01]), varint(inner.length), inner]); // a Metric
    const deep = Buffer.concat([Buffer.from([0x12]), varint(top.length), top]); // Payload.metrics
    assert.throws(() => decodeSparkplug(deep, 1 << 22), SparkplugDecodeError);
    assert.throws(
      () => decodeSparkplug(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 0x00]), MAX),
      SparkplugDecodeError,
    );
    assert.throws(() => decodeSparkplug(Buffer.alloc(2048), 1024), /over the 1024-byte decode limit/);
  });

  it('a huge declared array count stays within the bytes it has', () => {
    const p = decodeSparkplug(
      encode({
        metrics: [{ name: 'b', datatype: 32, bytesValue: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xaa]) }],
      }),
      MAX,
    );
    const v = viewSparkplug(p, undefined, LIMITS).metrics[0];
    assert.equal((v?.value as unknown[]).length, 8);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

describe('the tracker', () => {
  let seq = 0;
  const msg = (topic: string, payload: Record<string, unknown>, at: number): StoredMessage => {
    const bytes = encode(payload);
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
  };
  const N = 'spBv1.0/g/NBIRTH/e';

  it('BIRTH, DATA by alias, a rebirth with new aliases: an old DATA keeps its old names', () => {
    const t = new SparkplugTracker();
    t.enqueue(
      msg(
        N,
        {
          seq: 0,
          metrics: [
            { name: 'bdSeq', datatype: 8, longValue: 1 },
            { name: 'temp', alias: 1, datatype: 10, doubleValue: 20 },
          ],
        },
        1000,
      ),
    );
    const old = msg('spBv1.0/g/NDATA/e', { seq: 1, metrics: [{ alias: 1, doubleValue: 21 }] }, 2000);
    t.enqueue(old);
    t.enqueue(
      msg(
        N,
        {
          seq: 0,
          metrics: [
            { name: 'bdSeq', datatype: 8, longValue: 2 },
            { name: 'pressure', alias: 1, datatype: 10, doubleValue: 3 },
          ],
        },
        3000,
      ),
    );
    const fresh = msg('spBv1.0/g/NDATA/e', { seq: 1, metrics: [{ alias: 1, doubleValue: 3.5 }] }, 4000);
    t.enqueue(fresh);
    const oldView = t.view(old);
    const freshView = t.view(fresh);
    assert.ok(oldView !== undefined && 'ok' in oldView && freshView !== undefined && 'ok' in freshView);
    assert.equal(oldView.ok.metrics[0]?.name, 'temp');
    assert.equal(freshView.ok.metrics[0]?.name, 'pressure');
    const node = [...t.nodes()][0];
    assert.equal(node?.bdSeq, '2');
    assert.deepEqual(node?.metrics.get('pressure')?.value, 3.5);
    assert.equal(node?.seqGaps, 0);
  });

  it('seq gaps are counted; NDEATH with the right bdSeq takes node and devices offline, a stale one does not', () => {
    const t = new SparkplugTracker();
    t.enqueue(msg(N, { seq: 0, metrics: [{ name: 'bdSeq', datatype: 8, longValue: 5 }] }, 1));
    t.enqueue(
      msg(
        'spBv1.0/g/DBIRTH/e/d',
        { seq: 1, metrics: [{ name: 'x', alias: 1, datatype: 7, intValue: 1 }] },
        2,
      ),
    );
    t.enqueue(msg('spBv1.0/g/DDATA/e/d', { seq: 4, metrics: [{ alias: 1, intValue: 2 }] }, 3));
    t.enqueue(msg('spBv1.0/g/NDEATH/e', { metrics: [{ name: 'bdSeq', datatype: 8, longValue: 4 }] }, 4));
    let node = [...t.nodes()][0];
    assert.equal(node?.seqGaps, 1);
    assert.equal(node?.online, true, 'a DEATH of an earlier session');
    assert.equal(t.stats().staleDeaths, 1);
    t.enqueue(msg('spBv1.0/g/NDEATH/e', { metrics: [{ name: 'bdSeq', datatype: 8, longValue: 5 }] }, 5));
    node = [...t.nodes()][0];
    assert.equal(node?.online, false);
    assert.equal(node?.devices.get('d')?.online, false);
    assert.equal(node?.devices.get('d')?.metrics.get('x')?.value, 2);
  });

  it('is bounded: nodes beyond the limit push out the least recently updated, and are counted', () => {
    const t = new SparkplugTracker({
      nodes: 3,
      devicesPerNode: 2,
      metrics: 5,
      births: 2,
      queue: 100,
      decodeBytes: MAX,
      view: LIMITS,
    });
    for (let i = 0; i < 5; i++)
      t.enqueue(
        msg(
          `spBv1.0/g/NBIRTH/e${i}`,
          {
            seq: 0,
            metrics: [
              { name: 'a', datatype: 7, intValue: i },
              { name: 'b', datatype: 7, intValue: i },
            ],
          },
          i,
        ),
      );
    assert.deepEqual(
      [...t.nodes()].map((n) => n.edge),
      ['e2', 'e3', 'e4'],
    );
    assert.equal(t.stats().dropped.nodes, 2);
    assert.ok(t.stats().dropped.metrics >= 1);
    for (let i = 0; i < 150; i++) t.enqueue(msg('spBv1.0/g/NDATA/e4', { seq: 1, metrics: [] }, 10 + i));
    assert.equal(t.stats().dropped.queue, 50);
  });

  it('a truncated or undecodable payload is an error for the view, counted by the tracker', () => {
    const t = new SparkplugTracker();
    const bad: StoredMessage = {
      ...msg('spBv1.0/g/NDATA/e', { seq: 1 }, 1),
      payload: Buffer.from([0x12, 0xff]),
      data: '\x12\xff',
      storedBytes: 2,
      sizeBytes: 2,
    };
    t.enqueue(bad);
    const v = t.view(bad);
    assert.ok(v !== undefined && 'error' in v);
    assert.match(v.error, /not a Sparkplug B payload/);
    assert.equal(t.stats().decodeErrors, 1);
    assert.equal(t.view({ ...bad, topic: 'plant/x' }), undefined);
  });
});
