import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractNumeric, medianGap, summarizePoints } from '../../src/history/numeric.js';

describe('extractNumeric', () => {
  const cases: Array<[string, string, Array<[string, number]>]> = [
    ['a bare number', '21.5', [['', 21.5]]],
    ['a number with whitespace', ' 21.5\n', [['', 21.5]]],
    ['a negative exponent', '-1.5e-3', [['', -0.0015]]],
    [
      'a JSON object',
      '{"temp":21.5,"unit":"C","ok":true}',
      [
        ['temp', 21.5],
        ['ok', 1],
      ],
    ],
    [
      'nested paths',
      '{"sensors":[{"value":1},{"value":false}]}',
      [
        ['sensors.0.value', 1],
        ['sensors.1.value', 0],
      ],
    ],
    [
      'a top-level array',
      '[1,2]',
      [
        ['0', 1],
        ['1', 2],
      ],
    ],
    ['a UTF-8 key', Buffer.from('{"température":3}', 'utf8').toString('latin1'), [['température', 3]]],
    ['malformed JSON', '{"temp":21.5', []],
    ['text', 'on', []],
    ['a number followed by text', '21.5 C', []],
    ['NaN and Infinity as text', 'NaN', []],
    ['an overflowing number', '1e999', []],
    ['a JSON overflow leaf', '{"a":1e999,"b":2}', [['b', 2]]],
    ['empty', '', []],
    ['null', 'null', []],
    ['a string leaf', '{"a":"1"}', []],
  ];
  for (const [name, payload, expected] of cases) {
    it(name, () => {
      assert.deepEqual(
        extractNumeric(payload).map((f) => [f.field, f.value]),
        expected,
      );
    });
  }

  it('stops at maxFields', () => {
    const payload = JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i])));
    assert.equal(extractNumeric(payload).length, 32);
    assert.equal(extractNumeric(payload, 5).length, 5);
    assert.deepEqual(extractNumeric(payload, 0), []);
  });

  it('skips leaves deeper than 16 levels', () => {
    const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    assert.deepEqual(extractNumeric(deep(16)).length, 1);
    assert.deepEqual(extractNumeric(deep(17)), []);
  });

  it('does not parse payloads over 64 KiB', () => {
    const big = JSON.stringify({ a: 1, pad: 'x'.repeat(70_000) });
    assert.deepEqual(extractNumeric(big), []);
    const fits = JSON.stringify({ a: 1, pad: 'x'.repeat(60_000) });
    assert.deepEqual(extractNumeric(fits), [{ field: 'a', value: 1 }]);
  });
});

describe('summarizePoints', () => {
  it('is exact over [from, to), with equal buckets', () => {
    const points = [
      { at: 5, value: 100 }, // before from
      { at: 10, value: 1 },
      { at: 14, value: 3 },
      { at: 15, value: 2 },
      { at: 29, value: 10 },
      { at: 30, value: 99 }, // at to: excluded
    ];
    const s = summarizePoints(points, 10, 30, 4)!;
    assert.equal(s.count, 4);
    assert.equal(s.min, 1);
    assert.equal(s.max, 10);
    assert.equal(s.mean, 4);
    assert.deepEqual(s.first, { at: 10, value: 1 });
    assert.deepEqual(s.last, { at: 29, value: 10 });
    assert.deepEqual(s.buckets, [
      { start: 10, count: 2, min: 1, max: 3, mean: 2 },
      { start: 15, count: 1, min: 2, max: 2, mean: 2 },
      { start: 20, count: 0 },
      { start: 25, count: 1, min: 10, max: 10, mean: 10 },
    ]);
  });

  it('is undefined without points in range', () => {
    assert.equal(summarizePoints([{ at: 1, value: 1 }], 2, 3, 1), undefined);
  });

  it('takes the first given of equal times as first and the last as last', () => {
    const s = summarizePoints(
      [
        { at: 1, value: 1 },
        { at: 1, value: 2 },
        { at: 2, value: 3 },
        { at: 2, value: 4 },
      ],
      0,
      10,
      1,
    )!;
    assert.deepEqual([s.first.value, s.last.value], [1, 4]);
  });

  it('bucket starts are the first millisecond of each bucket when the width is not whole', () => {
    const s = summarizePoints([{ at: 3, value: 1 }], 0, 10, 3)!;
    assert.deepEqual(
      s.buckets.map((b) => b.start),
      [0, 4, 7],
    );
    assert.equal(s.buckets[0]!.count, 1); // 3 * 3 / 10 = 0.9 -> bucket 0
  });
});

describe('medianGap', () => {
  it('is the median of the gaps', () => {
    assert.equal(medianGap([0, 10, 20, 50]), 10);
    assert.equal(medianGap([40, 0, 10]), 20);
    assert.equal(medianGap([5]), undefined);
  });
});
