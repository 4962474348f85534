/**
 * Records by column to a history worker: whatever goes in comes out field for field (qos,
 * retain, sizes and receive times exact, properties and brokers on the records that had them),
 * for random records, and the column buffers are the ones listed for moving.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { packRecords, transferList, unpackRecords } from '../../src/history/records-transfer.js';
import type { HistoryRecord } from '../../src/history/types.js';

const record = fc.record(
  {
    topic: fc.string({ maxLength: 40 }),
    payload: fc.string({ maxLength: 100 }),
    sizeBytes: fc.nat({ max: 2 ** 31 }),
    qos: fc.constantFrom(0 as const, 1 as const, 2 as const),
    retain: fc.boolean(),
    receivedAt: fc.integer({ min: 0, max: 2 ** 45 }),
    properties: fc.option(fc.record({ contentType: fc.string({ maxLength: 10 }) }), { nil: undefined }),
    broker: fc.option(fc.constantFrom('site', 'cloud'), { nil: undefined }),
    mid: fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
    redelivered: fc.boolean(),
  },
  { requiredKeys: ['topic', 'payload', 'sizeBytes', 'qos', 'retain', 'receivedAt'] },
);

/** A record with its absent optional fields as undefined (how unpack gives them); redelivered only with a packet id. */
function normal(r: HistoryRecord): HistoryRecord {
  return {
    ...r,
    properties: r.properties,
    broker: r.broker,
    mid: r.mid,
    redelivered: r.mid !== undefined && r.redelivered === true,
  };
}

describe('records by column to a worker', () => {
  it('unpack(pack(records)) gives the records back, field for field', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 50 }), (records) => {
        const back = unpackRecords(structuredClone(packRecords(records)));
        // structuredClone on both sides: fast-check makes null-prototype objects.
        assert.deepEqual(back, structuredClone(records.map(normal)));
      }),
      { numRuns: 300 },
    );
  });

  it('moves the number and flag columns', () => {
    const packed = packRecords([
      { topic: 't', payload: 'p', sizeBytes: 1, qos: 1, retain: true, receivedAt: 5 },
    ]);
    assert.deepEqual(transferList(packed), [packed.numbers.buffer, packed.flags.buffer]);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(packed, transferList(packed));
    assert.equal(packed.numbers.byteLength, 0, 'moved, not copied');
    port1.close();
    port2.close();
  });

  it('moves the packet ids too, when a record has one', () => {
    const packed = packRecords([
      {
        topic: 't',
        payload: 'p',
        sizeBytes: 1,
        qos: 1,
        retain: false,
        receivedAt: 5,
        mid: 7,
        redelivered: true,
      },
    ]);
    assert.ok(packed.mids !== undefined);
    assert.deepEqual(transferList(packed), [packed.numbers.buffer, packed.flags.buffer, packed.mids.buffer]);
  });
});
