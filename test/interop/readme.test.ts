/**
 * The README's "Broker compatibility" matrix is the table in support/facts.ts, which the broker
 * suites assert against the real brokers: a changed fact fails its broker's test, and a README
 * out of step with the table fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { README, readmeMatrix, renderMatrix, tableCells } from './support/matrix.js';

it('the README shows the broker compatibility matrix the suite checks', () => {
  const shown = readmeMatrix(readFileSync(README, 'utf8'));
  assert.ok(shown !== undefined, 'README.md lacks the interop-matrix markers');
  assert.deepEqual(
    tableCells(shown),
    tableCells(renderMatrix()),
    'run: npx tsx test/interop/support/matrix.ts --write',
  );
});
