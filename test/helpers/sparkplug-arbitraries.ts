/**
 * Random Sparkplug metrics for property tests (fast-check): any of name (empty, one of the
 * edge node's, or any text), alias, datatype, timestamp and is_null, with a value drawn from
 * `value`, as one object for encode() of edge-node.ts.
 */
import fc from 'fast-check';
import { ALL_TYPES } from './edge-node.js';

export function randomMetric(
  value: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .tuple(
      fc.record(
        {
          name: fc.oneof(fc.constant(''), fc.constantFrom(...ALL_TYPES.map((x) => x.name)), fc.string()),
          alias: fc.integer({ min: 0, max: 40 }),
          datatype: fc.integer({ min: 0, max: 40 }),
          timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
          isNull: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      value,
    )
    .map(([fields, v]) => ({ ...fields, ...v }));
}
