/**
 * scripts/run-tests.mjs reports every test that ran. With --test-force-exit, a test file's
 * process used to exit with results still buffered in its stdout pipe, and the runner counted
 * fewer tests than ran, with exit code 0 (nodejs/node#64833). Long test names make the
 * buffered output large enough that, without the fix, results are lost on nearly every run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const FILES = 3;
const TESTS_PER_FILE = 60;

describe('scripts/run-tests.mjs', () => {
  it('counts every test of every file, also when files finish at the same time', { timeout: 90_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-run-tests-'));
    try {
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
      mkdirSync(join(dir, 'test', 'fixture'), { recursive: true });
      for (let f = 0; f < FILES; f++) {
        writeFileSync(
          join(dir, 'test', 'fixture', `f${f}.test.ts`),
          [
            "import { test } from 'node:test';",
            `for (let i = 0; i < ${TESTS_PER_FILE}; i++) test(\`t\${i} \${'x'.repeat(2000)}\`, () => {});`,
          ].join('\n'),
        );
      }
      // A file that leaves a timer running still ends (its process is force-exited).
      writeFileSync(
        join(dir, 'test', 'fixture', 'leak.test.ts'),
        "import { test } from 'node:test';\ntest('leaves a timer', () => { setInterval(() => {}, 1000); });\n",
      );
      const result = spawnSync(process.execPath, [join(ROOT, 'scripts/run-tests.mjs'), 'fixture'], {
        cwd: dir,
        encoding: 'utf8',
        // Without NODE_TEST_CONTEXT, which makes a nested runner report to this one instead.
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, TEST_CONCURRENCY: String(FILES + 1) },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
      });
      assert.equal(result.status, 0, result.stderr.slice(-2000));
      const total = FILES * TESTS_PER_FILE + 1;
      assert.match(result.stdout, new RegExp(`^ℹ tests ${total}$`, 'm'));
      assert.match(result.stdout, new RegExp(`^ℹ pass ${total}$`, 'm'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
