/**
 * History faults for real, through the built server (dist/index.js over stdio) against a real
 * Mosquitto over mutual TLS: a small tmpfs filled up while recording, the file made immutable
 * (chattr +i; root ignores modes), a garbage file at start, and a second bridge on a file that
 * one is recording to. While history is paused the live tools keep working, and recording
 * resumes once the fault is cleared. Needs root for mount and chattr; skipped where they fail.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sleep, startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { historyEnv, historyState, historyStatus, runUntilExit, written } from '../helpers/history.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { spawnBridge, type SpawnedBridge } from '../helpers/spawned.js';
import { connectSpy, type Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let dir: string;
before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  spy = await connectSpy(broker, pki, ['plant/#']);
  dir = mkdtempSync(join(tmpdir(), 'mqtt-history-faults-'));
});
after(async () => {
  await spy?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Publish 8 KiB messages until history reports paused. */
async function publishUntilPaused(bridge: SpawnedBridge, topic: string): Promise<Record<string, any>> {
  const chunk = 'x'.repeat(8192);
  const until = Date.now() + 20_000;
  for (let i = 0; ; i++) {
    await spy.publish(topic, `${i}:${chunk}`, { qos: 0 });
    if (i % 20 === 0) {
      const h = await historyStatus(bridge);
      if (h.state === 'paused') return h;
      if (Date.now() > until) throw new Error(`history never paused: ${JSON.stringify(h)}`);
      await sleep(20);
    }
  }
}

/** While paused: get_latest answers from memory, publishing reaches the broker. */
async function liveToolsWork(bridge: SpawnedBridge, tag: string): Promise<void> {
  await spy.publish('plant/live/value', tag);
  const until = Date.now() + 5000;
  for (;;) {
    const l = await bridge.ok('mqtt_get_latest', { filter: 'plant/live/value' });
    if (l.messages[0]?.payload === tag) break;
    if (Date.now() > until) throw new Error(`get_latest never showed ${tag}: ${JSON.stringify(l)}`);
    await sleep(50);
  }
  const published = await bridge.ok('mqtt_publish', {
    topic: 'plant/live/cmd',
    payload: `cmd-${tag}`,
    qos: 1,
  });
  assert.equal(published.delivery, 'acknowledged');
  await waitFor(() => spy.received.find((m) => m.payload === `cmd-${tag}`), 3000, 'the publish at the spy');
}

/** After the fault cleared: recording again, and a new message is written. */
async function recordsAgain(bridge: SpawnedBridge, topic: string): Promise<void> {
  const resumed = await historyState(bridge, 'recording', 40_000);
  await spy.publish(topic, 'after-the-fault');
  await written(bridge, resumed.written + 1, 10_000);
  const read = await bridge.ok('mqtt_read_messages', { filter: topic, limit: 1, sinceSeconds: 3600 });
  assert.equal(read.messages[0]?.payload, 'after-the-fault');
}

describe('history faults through the spawned bridge', () => {
  it('a full disk (4 MiB tmpfs): paused naming the path, live tools work, recording resumes once space is freed', async (t) => {
    const mnt = mkdtempSync(join(dir, 'tmpfs-'));
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    let bridge: SpawnedBridge | undefined;
    try {
      const path = join(mnt, 'history.db');
      bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
      await bridge.connected();
      await spy.publish('plant/full/a', 'before');
      await written(bridge, 1);
      // Fill what is left, leaving the database nothing to grow into.
      const filler = join(mnt, 'filler');
      const fd = openSync(filler, 'w');
      try {
        const block = Buffer.alloc(64 * 1024, 1);
        for (;;) writeSync(fd, block);
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
      } finally {
        closeSync(fd);
      }
      const paused = await publishUntilPaused(bridge, 'plant/full/a');
      assert.ok(paused.reason.includes(path), `the reason names the path: ${paused.reason}`);
      assert.match(paused.reason, /full/);
      assert.equal(paused.path, path);
      await liveToolsWork(bridge, 'while-full');
      rmSync(filler);
      await recordsAgain(bridge, 'plant/full/b');
      t.diagnostic(`paused: ${paused.reason}; dropped while paused: ${JSON.stringify(paused.dropped)}`);
    } finally {
      await bridge?.close();
      execFileSync('umount', [mnt]);
    }
  });

  it('a read-only file (chattr +i on the file and its -wal): paused naming the path, resumes after chattr -i', async (t) => {
    const path = join(dir, 'immutable', 'history.db');
    const files = [path, `${path}-wal`];
    let bridge: SpawnedBridge | undefined;
    let locked = false;
    try {
      bridge = await spawnBridge('stdio', historyEnv(broker, pki, path));
      await bridge.connected();
      await spy.publish('plant/ro/a', 'before');
      await written(bridge, 1);
      assert.ok(
        files.every((f) => existsSync(f)),
        'the file and its WAL exist while recording',
      );
      if (spawnSync('chattr', ['+i', ...files]).status !== 0) {
        t.skip('chattr +i is not available here (not root, or no immutable flag on this file system)');
        return;
      }
      locked = true;
      const paused = await publishUntilPaused(bridge, 'plant/ro/a');
      assert.ok(paused.reason.includes(path), `the reason names the path: ${paused.reason}`);
      assert.match(paused.reason, /read-only/);
      await liveToolsWork(bridge, 'while-read-only');
      execFileSync('chattr', ['-i', ...files]);
      locked = false;
      await recordsAgain(bridge, 'plant/ro/b');
      t.diagnostic(`paused: ${paused.reason}`);
    } finally {
      if (locked) spawnSync('chattr', ['-i', ...files]);
      await bridge?.close();
    }
  });

  it('a garbage file at start: exit 1, stderr names the path, the file is byte-for-byte unchanged', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, randomBytes(16 * 1024));
    const before = sha(path);
    const run = await runUntilExit(historyEnv(broker, pki, path));
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.includes(path), run.stderr);
    assert.match(run.stderr, /not a history database/);
    assert.equal(sha(path), before, 'the file is left as it was');
    assert.ok(
      !existsSync(`${path}-wal`) && !existsSync(`${path}-journal`),
      'no WAL or journal left beside it',
    );
  });

  it('a second bridge on the same file refuses with a clear message (exit 1); the first keeps recording', async () => {
    const path = join(dir, 'shared.db');
    const first = await spawnBridge('stdio', historyEnv(broker, pki, path));
    try {
      await first.connected();
      await spy.publish('plant/two/a', 'one');
      const h = await written(first, 1);
      const second = await runUntilExit(historyEnv(broker, pki, path));
      assert.equal(second.code, 1, second.stderr);
      assert.ok(second.stderr.includes(path), second.stderr);
      assert.match(second.stderr, /another process is recording to/);
      await spy.publish('plant/two/a', 'two');
      await written(first, h.written + 1);
      const status = await historyStatus(first);
      assert.equal(status.state, 'recording');
      const read = await first.ok('mqtt_read_messages', {
        filter: 'plant/two/a',
        limit: 5,
        sinceSeconds: 3600,
      });
      assert.deepEqual(
        read.messages.map((m: { payload: string }) => m.payload),
        ['two', 'one'],
      );
    } finally {
      await first.close();
    }
  });
});
