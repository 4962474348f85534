/**
 * The store's byte limit bounds its heap, whatever shape of topics, payloads and properties a
 * device publisher chooses: each shape (support/store-shapes.ts) runs in a process of its own
 * with the V8 heap limit of the container (--max-old-space-size=211), and the heap after a full GC
 * (with the typed arrays of the message columns) never grows past what the store counts (beyond a
 * 64th for evicted messages not yet swept out, and a fixed allowance for code and caches), nor
 * what it counts past STORE_MAX_BYTES.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const MAX_BYTES = 64 * 1024 * 1024; // the default STORE_MAX_BYTES
const ALLOWANCE = 2 * 1024 * 1024;
const DRIVER = join(import.meta.dirname, 'support/store-shapes.ts');

interface Report {
  readonly samples: ReadonlyArray<{ heap: number; counted: number }>;
  readonly topics: number;
  readonly messages: number;
  readonly dropped: Record<string, number>;
}

function runShape(shape: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=211', '--import', 'tsx', DRIVER, shape, String(MAX_BYTES)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(stdout) as Report);
      else reject(new Error(`shape ${shape}: exit ${code ?? signal}: ${stderr.slice(-1500)}`));
    });
  });
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

const SHAPES: ReadonlyArray<readonly [string, string]> = [
  ['deep', '15,000 topics of about 200 levels, each with its own first level'],
  ['tiny', "64 KiB topics of one-letter levels ('a/a/a/...')"],
  ['empty', "64 KiB topics of empty levels ('7////...')"],
  ['long', '64 KiB topics of one long level'],
  ['wide', '64 KiB topics of characters above U+00FF'],
  ['many', '700,000 one-byte messages on 10,000 topics'],
  ['churn', '300,000 messages, each on a new topic past the topic cap'],
  ['sibling', 'long topics dropped while a short sibling keeps their long first level'],
  ['evicted', 'big messages evicted while the eviction heap still refers to them'],
  ['branching', "a full binary tree of topics 17 levels deep ('0/1/1/0/...')"],
  ['chain', "topics that are each other's parents ('p7', 'p7/x')"],
  ['properties', '60,000 empty messages with 20 user properties each'],
  ['repeated', '60,000 empty messages with user properties of repeated names'],
];

describe('store memory under a capped heap, per topic shape', () => {
  for (const [shape, what] of SHAPES) {
    it(`${shape}: ${what}`, async (t) => {
      const report = await runShape(shape);
      t.diagnostic(
        `${shape}: heap/counted per sample ${report.samples.map((s) => `${mib(s.heap)}/${mib(s.counted)}`).join(' ')}; ` +
          `${report.topics} topics, ${report.messages} messages, dropped ${JSON.stringify(report.dropped)}`,
      );
      assert.ok(report.messages > 0, 'the newest values are kept');
      for (const [i, s] of report.samples.entries()) {
        assert.ok(s.counted <= MAX_BYTES, `sample ${i}: counted ${mib(s.counted)}`);
        assert.ok(
          s.heap <= s.counted * (65 / 64) + ALLOWANCE,
          `sample ${i}: the heap grew by ${mib(s.heap)}, the store counts ${mib(s.counted)}`,
        );
      }
    });
  }
});
