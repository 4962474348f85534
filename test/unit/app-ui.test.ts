/**
 * The MCP App's pure parts: it reads only the expected chart shape out of a tool result (finite
 * numbers, strings, bounded counts), calls only read-only tools, and refreshes with the opening
 * call's arguments (a zoom replaces the window by a fixed range).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chartInputOf, fieldsOf, MAX_SERIES_KEPT, viewOf } from '../../src/app-ui/result.js';
import { assertReadOnly, READ_ONLY_TOOLS, refreshArguments } from '../../src/app-ui/tools.js';
import { ALL_TOOLS } from '../../src/tools/index.js';

const base = {
  from: '2026-11-02T00:00:00.000Z',
  to: '2026-11-02T02:00:00.000Z',
  bucketSeconds: 3600,
  series: [
    {
      topic: 'a',
      field: 'temp',
      unit: '°C',
      buckets: [
        { start: '2026-11-02T00:00:00.000Z', count: 2, min: 1, max: 3, mean: 2 },
        { start: '2026-11-02T01:00:00.000Z', count: 0 },
      ],
    },
  ],
  bridgeOffline: [{ from: '2026-11-02T01:00:00.000Z' }],
};

describe('chartInputOf', () => {
  it('reads the chart shape of a result', () => {
    assert.deepEqual(chartInputOf(base), {
      from: base.from,
      to: base.to,
      bucketSeconds: 3600,
      series: base.series,
      offline: [{ from: '2026-11-02T01:00:00.000Z' }],
    });
  });

  it('drops what is not the expected shape, and bounds the series', () => {
    assert.equal(chartInputOf(undefined), undefined);
    assert.equal(chartInputOf({ ...base, from: 'yesterday' }), undefined);
    assert.equal(chartInputOf({ ...base, bucketSeconds: -1 }), undefined);
    const odd = chartInputOf({
      ...base,
      series: [
        { topic: 7, field: 'x', buckets: [] },
        {
          topic: 'b',
          field: { toString: 'x' },
          unit: ['°C'],
          extra: '<script>',
          buckets: [
            { start: 'nope', count: 1, min: 1, max: 1, mean: 1 },
            { start: base.from, count: 3, min: Number.NaN, max: 1, mean: 1 },
            { start: base.from, count: 1, min: 1, max: 2, mean: 1.5, extra: 1 },
          ],
        },
      ],
      bridgeOffline: [{ from: 1 }, { from: base.from, to: 'later' }],
    });
    assert.deepEqual(odd?.series, [
      {
        topic: 'b',
        field: '',
        buckets: [
          { start: base.from, count: 0 },
          { start: base.from, count: 1, min: 1, max: 2, mean: 1.5 },
        ],
      },
    ]);
    assert.deepEqual(odd?.offline, [{ from: base.from }]);
    const many = chartInputOf({ ...base, series: Array.from({ length: 500 }, () => base.series[0]) });
    assert.equal(many?.series.length, MAX_SERIES_KEPT);
  });

  it('fieldsOf() and viewOf() pick a field and a range', () => {
    const input = chartInputOf({
      ...base,
      series: [...base.series, { ...base.series[0], field: 'humidity' }],
    })!;
    assert.deepEqual(fieldsOf(input), ['temp', 'humidity']);
    assert.deepEqual(
      viewOf(input, 'humidity').series.map((s) => s.field),
      ['humidity'],
    );
    const zoomed = viewOf(input, undefined, {
      from: Date.parse(base.from) + 3_600_000,
      to: Date.parse(base.to),
    });
    assert.equal(zoomed.from, '2026-11-02T01:00:00.000Z');
    assert.deepEqual(
      zoomed.series[0]!.buckets.map((b) => b.start),
      ['2026-11-02T01:00:00.000Z'],
    );
  });
});

describe('the tools the view calls', () => {
  it('are read-only; anything else is refused', () => {
    for (const name of READ_ONLY_TOOLS) assert.doesNotThrow(() => assertReadOnly(name));
    for (const tool of ALL_TOOLS) {
      if (tool.annotations.readOnlyHint === true) continue;
      assert.throws(() => assertReadOnly(tool.name), /only read-only tools/, tool.name);
    }
    assert.throws(() => assertReadOnly('mqtt_publish'));
  });

  it('refresh with the opening arguments, without the picture size; a zoom sets from and to', () => {
    const args = { filter: 'plant/#', sinceSeconds: 3600, buckets: 24, width: 800, height: 400 };
    assert.deepEqual(refreshArguments(args), { filter: 'plant/#', sinceSeconds: 3600, buckets: 24 });
    assert.deepEqual(refreshArguments(args, { from: 0, to: 60_000 }), {
      filter: 'plant/#',
      buckets: 24,
      from: '1970-01-01T00:00:00.000Z',
      to: '1970-01-01T00:01:00.000Z',
    });
  });
});
