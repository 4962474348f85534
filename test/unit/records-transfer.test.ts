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
  },
  { requiredKeys: ['topic', 'payload', 'sizeBytes', 'qos', 'retain', 'receivedAt'] },
);

/** A record with its absent optional fields as undefined (how unpack gives them). */
function normal(r: HistoryRecord): HistoryRecord {
  return { ...r, properties: r.properties, broker: r.broker };
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
});
