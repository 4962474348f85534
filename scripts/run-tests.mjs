#!/usr/bin/env node
// Runs the node:test suites named on the command line (folders under test/), TypeScript
// loaded through tsx, each file in its own process. Usage: node scripts/run-tests.mjs unit tools
//
// Each file's process ends once its tests have finished (--test-force-exit), so a leftover
// child process or handle cannot keep it alive, and a hung test fails after 180 s. The runner
// itself is not force-exited: it ends when the last file has reported, so no result and no line
// of the summary is cut off. A file's process would otherwise drop results still buffered in
// its stdout pipe (nodejs/node#64833); test-flush-stdout.mjs makes that pipe blocking.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { pathToFileURL } from 'node:url';

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

const stream = run({
  files,
  concurrency: Number(process.env.TEST_CONCURRENCY ?? '2'),
  timeout: 180_000,
  isolation: 'process',
  execArgv: [
    '--import',
    'tsx',
    '--import',
    pathToFileURL(join(import.meta.dirname, 'test-flush-stdout.mjs')).href,
    '--test-force-exit',
  ],
});
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(spec).pipe(process.stdout);
