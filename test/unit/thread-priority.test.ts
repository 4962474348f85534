/**
 * The history writers' thread priority (Linux): lowerThisThread() in a worker raises that
 * thread's nice value to WRITER_NICE and leaves the main (ingest) thread's as it was. Read back
 * from /proc (field 19 of the thread's stat).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WRITER_NICE } from '../../src/history/thread-priority.js';

/** The nice value in a thread's /proc stat line: field 19, counted after the command's paren. */
function niceIn(stat: string): number {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
}

describe('history writer thread priority', { skip: process.platform !== 'linux' }, () => {
  it('a worker that lowers itself runs at WRITER_NICE; the main thread keeps its priority', async () => {
    const before = niceIn(readFileSync('/proc/thread-self/stat', 'utf8'));
    const module = pathToFileURL(
      new URL('../../src/history/thread-priority.ts', import.meta.url).pathname,
    ).href;
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { readFileSync } = require('node:fs');
       import(${JSON.stringify(module)}).then((m) => {
         const applied = m.lowerThisThread();
         parentPort.postMessage({ applied, text: readFileSync('/proc/thread-self/stat', 'utf8') });
       });`,
      { eval: true },
    );
    const reply = await new Promise<{ applied: boolean; text: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    assert.equal(reply.applied, true);
    assert.equal(niceIn(reply.text), Math.max(before, WRITER_NICE));
    assert.equal(
      niceIn(readFileSync('/proc/thread-self/stat', 'utf8')),
      before,
      'the main thread is untouched',
    );
  });
});
