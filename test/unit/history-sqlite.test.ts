/**
 * The SQLite history backend: the contract suite over a real file in a temp dir, then what only
 * SQLite has: foreign and garbage files left untouched, a second opener refused, file modes,
 * integrity after the worker is killed mid-batch, read-only and disk-full faults and recovery.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import { HistoryFault, HistoryOpenError, type HistoryOptions } from '../../src/history/types.js';
import { commonOptions, rec, runContract, type ContractOpenOptions } from '../history/contract.js';

const root = mkdtempSync(join(tmpdir(), 'history-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function options(location: string, o: ContractOpenOptions = {}): HistoryOptions {
  return { location, ...commonOptions(o) };
}

let last = '';
runContract('sqlite', (o = {}) => {
  if (!o.reopen) last = join(root, `c${n++}`, 'history.db');
  return SqliteHistory.open(options(last, o));
});

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const T0 = Date.parse('2026-11-02T00:00:00Z');

describe('sqlite history file', () => {
  it('refuses a garbage file and leaves it byte for byte', async () => {
    const path = join(root, 'garbage.db');
    writeFileSync(path, Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 256)));
    const hash = sha(path);
    await assert.rejects(SqliteHistory.open(options(path)), (e: Error) => {
      assert.ok(e instanceof HistoryOpenError);
      assert.match(e.message, /not a history database/);
      assert.ok(e.message.includes(path));
      return true;
    });
    assert.equal(sha(path), hash);
  });

  it('refuses an SQLite database that is not ours and leaves it byte for byte', async () => {
    const path = join(root, 'foreign.db');
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('schema', 'else')");
    db.close();
    const hash = sha(path);
    await assert.rejects(SqliteHistory.open(options(path)), (e: Error) => {
      assert.ok(e instanceof HistoryOpenError);
      assert.match(e.message, /not a bridge history file/);
      assert.ok(e.message.includes(path));
      return true;
    });
    assert.equal(sha(path), hash);
  });

  it('refuses a second opener while the first records, and opens after it closed, data kept', async () => {
    const path = join(root, 'two', 'history.db');
    const first = await SqliteHistory.open(options(path));
    await first.append([rec('t', T0, 'kept')], [{ at: T0, state: 'down' }]);
    await assert.rejects(SqliteHistory.open(options(path)), (e: Error) => {
      assert.ok(e instanceof HistoryOpenError);
      assert.equal(e.message, `another process is recording to ${path} (the history file is locked)`);
      return true;
    });
    await first.append([rec('t', T0 + 1, 'still')], []); // the refusal did not disturb the first
    await first.close();
    const again = await SqliteHistory.open(options(path));
    assert.deepEqual(
      (await again.range({ filter: '#', limit: 10 })).messages.map((m) => m.payload),
      ['still', 'kept'],
    );
    assert.deepEqual(await again.offline(T0, T0 + 10), [{ from: T0 }]);
    await again.append([rec('t', T0 + 2, 'more')], []);
    assert.equal((await again.stats()).records, 3);
    await again.close();
  });

  it('prunes payloads kept out of line with their records, and reads a version 1 file', async () => {
    const path = join(root, 'outofline', 'history.db');
    const h = await SqliteHistory.open(options(path, { retentionMs: 60 * 60_000 }));
    const big = 'b'.repeat(5000);
    await h.append(
      [rec('old', T0, big), rec('old', T0 + 1, 'small'), rec('new', T0 + 120 * 60_000, big)],
      [],
    );
    let removed = 0;
    for (let i = 0; i < 5; i++) removed += await h.prune(T0 + 150 * 60_000);
    assert.equal(removed, 2);
    await h.close();
    const db = new DatabaseSync(path);
    assert.equal(
      db.prepare('SELECT count(*) AS n FROM payloads').get()?.n,
      1,
      'the pruned record took its payload along',
    );
    // Back to version 1 (no payloads table) as an earlier bridge left it.
    db.exec(
      "DELETE FROM payloads; DROP TABLE payloads; DROP TABLE held; UPDATE meta SET value = 1 WHERE key = 'version'",
    );
    db.exec('DELETE FROM messages WHERE flags & 8');
    db.close();
    const v1 = await SqliteHistory.open(options(path));
    await v1.append([rec('new', T0 + 121 * 60_000, big)], []);
    assert.deepEqual(
      (await v1.range({ filter: '#', limit: 10 })).messages.map((m) => m.payload),
      [big],
    );
    await v1.close();
    const after = new DatabaseSync(path);
    assert.equal(after.prepare("SELECT value FROM meta WHERE key = 'version'").get()?.value, 4);
    after.close();
  });

  it('a version 2 file gains per-minute rollups built from its points; summaries agree before and after', async () => {
    const path = join(root, 'rollups', 'history.db');
    const h = await SqliteHistory.open(options(path));
    // Points every 7 s over 20 minutes, buckets that do not fall on minute bounds.
    const values = Array.from({ length: 172 }, (_, i) => ((i * 37) % 101) - 50 + i / 8);
    await h.append(
      values.map((v, i) => rec('m', T0 + 5_000 + i * 7_000, String(v))),
      [],
    );
    const query = { filter: 'm', from: T0 + 13_000, to: T0 + 20 * 60_000 + 1_000, buckets: 7, maxSeries: 10 };
    const before = await h.summarize(query);
    await h.close();
    const db = new DatabaseSync(path);
    assert.ok(Number(db.prepare('SELECT count(*) AS n FROM rollups').get()?.n) >= 20, 'rollups written');
    db.exec("DROP TABLE rollups; DROP TABLE held; UPDATE meta SET value = 2 WHERE key = 'version'");
    db.close();
    const v2 = await SqliteHistory.open(options(path));
    const after = await v2.summarize(query);
    await v2.close();
    const inWindow = values.filter((_, i) => {
      const at = T0 + 5_000 + i * 7_000;
      return at >= query.from && at < query.to;
    });
    for (const r of [before, after]) {
      const [s] = r.series;
      assert.equal(s?.count, inWindow.length);
      assert.equal(s?.min, Math.min(...inWindow));
      assert.equal(s?.max, Math.max(...inWindow));
      assert.ok(Math.abs((s?.mean ?? NaN) - inWindow.reduce((a, b) => a + b, 0) / inWindow.length) < 1e-9);
    }
    assert.deepEqual(after, before);
  });

  it('creates the file 0600 and the directories it makes 0700', async () => {
    const dir = join(root, 'modes', 'a', 'b');
    const h = await SqliteHistory.open(options(join(dir, 'history.db')));
    await h.append([rec('t', T0)], []);
    assert.equal(statSync(join(dir, 'history.db')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'history.db-wal')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(root, 'modes', 'a')).mode & 0o777, 0o700);
    await h.close();
  });

  it('opens cleanly with integrity ok after the worker is killed mid-batch', async () => {
    const path = join(root, 'killed', 'history.db');
    const h = await SqliteHistory.open(options(path));
    await h.append([rec('t', T0, 'committed')], []);
    const big = Array.from({ length: 50_000 }, (_, i) => rec(`k/${i % 100}`, T0 + 1 + i, `{"v":${i}}`));
    const pending = h.append(big, []);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await h.worker.terminate();
    await assert.rejects(pending, HistoryFault);
    const check = new DatabaseSync(path);
    assert.equal(check.prepare('PRAGMA integrity_check').get()?.integrity_check, 'ok');
    check.close();
    const again = await SqliteHistory.open(options(path));
    const stats = await again.stats();
    assert.ok(stats.records === 1 || stats.records === 50_001, `records ${stats.records}`);
    assert.equal((await again.range({ filter: 't', limit: 1 })).messages[0]?.payload, 'committed');
    await again.close();
  });

  it('pauses on a read-only file (chattr +i) and succeeds again once writable', async (t) => {
    const path = join(root, 'ro', 'history.db');
    const h = await SqliteHistory.open(options(path));
    await h.append([rec('t', T0)], []);
    const files = [path, `${path}-wal`];
    if (spawnSync('chattr', ['+i', ...files]).status !== 0) {
      await h.close();
      t.skip('chattr +i is not available here (not root, or the file system has no immutable flag)');
      return;
    }
    try {
      await assert.rejects(h.append([rec('t', T0 + 1)], []), (e: Error) => {
        assert.ok(e instanceof HistoryFault);
        assert.equal(e.kind, 'readonly');
        assert.ok(e.message.includes(path));
        return true;
      });
    } finally {
      execFileSync('chattr', ['-i', ...files]);
    }
    await h.append([rec('t', T0 + 1)], []); // the recorder retries the same batch
    assert.equal((await h.stats()).records, 2);
    await h.close();
  });

  it('pauses on a full disk (a 2 MiB tmpfs) and succeeds again once space is freed', async (t) => {
    const dir = join(root, 'full');
    mkdirSync(dir);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]).status !== 0) {
      t.skip('cannot mount a tmpfs here (needs root in a sandbox)');
      return;
    }
    try {
      const h = await SqliteHistory.open(options(join(dir, 'history.db')));
      try {
        await h.append([rec('t', T0)], []);
        const filler = join(dir, 'filler');
        spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k', 'count=64']); // until ENOSPC
        const batch = Array.from({ length: 2000 }, (_, i) => rec('f', T0 + 1 + i, 'y'.repeat(500)));
        await assert.rejects(h.append(batch, []), (e: Error) => {
          assert.ok(e instanceof HistoryFault, String(e));
          assert.equal(e.kind, 'full');
          return true;
        });
        rmSync(filler);
        await h.append(batch, []);
        assert.equal((await h.stats()).records, 2001);
      } finally {
        await h.close();
      }
    } finally {
      execFileSync('umount', [dir]);
    }
  });

  it('reports a deleted file as vanished', async () => {
    const path = join(root, 'gone', 'history.db');
    const h = await SqliteHistory.open(options(path));
    await h.append([rec('t', T0)], []);
    rmSync(join(root, 'gone'), { recursive: true });
    await assert.rejects(h.append([rec('t', T0 + 1)], []), (e: Error) => {
      assert.ok(e instanceof HistoryFault);
      assert.equal(e.kind, 'vanished');
      return true;
    });
    await h.close();
  });
});
