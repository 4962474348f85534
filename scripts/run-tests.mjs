#!/usr/bin/env node
// Runs the node:test suites named on the command line (folders under test/), TypeScript
// loaded through tsx. Usage: node scripts/run-tests.mjs unit tools integration e2e
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const suites = process.argv.slice(2);
if (suites.length === 0) {
  process.stderr.write('usage: run-tests.mjs <suite> [suite...]   (folders under test/)\n');
  process.exit(2);
}
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
};
for (const suite of suites) walk(join('test', suite));
if (files.length === 0) {
  process.stderr.write(`no test files in ${suites.join(', ')}\n`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    // A hung test fails instead of hanging CI; leftover child processes cannot keep a file alive.
    '--test-timeout=180000',
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
