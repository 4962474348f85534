/** Reconnect delays double from the minimum up to the cap, with half of each delay random. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/mqtt/backoff.js';

describe('backoffDelay', () => {
  it('doubles per failed attempt and stops at the cap', () => {
    const fixed = (attempt: number) => backoffDelay(attempt, 1000, 30_000, () => 1);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 50].map(fixed),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
    );
  });

  it('keeps half of each delay fixed and draws the other half', () => {
    assert.equal(
      backoffDelay(2, 1000, 30_000, () => 0),
      2000,
    );
    assert.equal(
      backoffDelay(2, 1000, 30_000, () => 0.5),
      3000,
    );
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(3, 1000, 30_000, Math.random);
      assert.ok(d >= 4000 && d <= 8000, String(d));
    }
  });
});
