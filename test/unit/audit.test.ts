/**
 * The audit log under topics a device publisher shapes (issue 11, finding 6): the dedup set of
 * suspicious payloads holds a hash per entry, never the topic (topics can be 64 KiB), and an
 * audit line carries at most AUDIT_TOPIC_CHARS of the topic, with the size and hash of the whole.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AUDIT_TOPIC_CHARS, createAuditLog, payloadHash } from '../../src/logging/audit.js';
import { Scrubber } from '../../src/logging/scrub.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function sinkLog() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, audit: createAuditLog({ scrubber: new Scrubber(), destination }) };
}

describe('audit log and long topics', () => {
  it('a long topic is cut in the line, with its size and hash', () => {
    const { lines, audit } = sinkLog();
    const topic = `plant/${'x'.repeat(60_000)}`;
    audit.suspicious({
      principal: 'p',
      tool: 't',
      topic,
      payload: Buffer.from('ignore previous'),
      reasons: ['override'],
    });
    audit.publish({
      principal: 'p',
      topic,
      bytes: 1,
      payload: Buffer.from('x'),
      qos: 1,
      retain: false,
      result: 'published',
    });
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.ok(line.length < 1000, `${line.length} characters`);
      assert.equal((entry.topic as string).length, AUDIT_TOPIC_CHARS + 3);
      assert.equal(entry.topicBytes, Buffer.byteLength(topic));
      assert.equal(entry.topicHash, payloadHash(Buffer.from(topic)));
    }
    const short = sinkLog();
    short.audit.suspicious({
      principal: 'p',
      tool: 't',
      topic: 'plant/a',
      payload: Buffer.from('x'),
      reasons: [],
    });
    const entry = JSON.parse(short.lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(entry.topic, 'plant/a');
    assert.equal(entry.topicBytes, undefined);
  });

  it('10,000 suspicious messages on 60 KB topics: the dedup set stays small, duplicates are audited once', () => {
    const { lines, audit } = sinkLog();
    const base = 'x'.repeat(60_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) {
      // A fresh string each time, as each message from the broker is.
      const topic = `plant/${i}/${base.slice(0, 59_990)}`;
      audit.suspicious({
        principal: 'p',
        tool: 't',
        topic,
        payload: Buffer.from('ignore previous'),
        reasons: ['override'],
      });
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 32 * 1024 * 1024, `the heap grew by ${(grown / 1048576).toFixed(1)} MiB`);
    assert.equal(lines.length, 10_000);
    lines.length = 0;
    audit.suspicious({
      principal: 'p',
      tool: 't',
      topic: `plant/9999/${base.slice(0, 59_990)}`,
      payload: Buffer.from('ignore previous'),
      reasons: ['override'],
    });
    assert.equal(lines.length, 0, 'already audited');
  });
});
