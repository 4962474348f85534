/**
 * The SQLite history file: the ONLY importer of node:sqlite. Opening (with the checks that leave a
 * foreign file untouched), the schema, and the fault mapping. Runs inside the worker thread
 * (sqlite-worker.ts), which owns the one connection; writes are in sqlite-write.ts, reads in
 * sqlite-read.ts, both over the small `Sql` interface below.
 *
 * Schema (version 4):
 * - meta(key, value): `schema` = SCHEMA_ID marks the file as ours; `seq` is the global record
 *   counter (every record gets the next one; it orders records with equal receive times);
 *   `broker` names the broker whose history the file holds (written at the first open that finds
 *   none, checked at every open after).
 * - topics: one row per recorded topic with its first/last times and record count, kept per batch.
 * - messages WITHOUT ROWID, key (topic_id, at, seq): clustered by topic and time, so one topic's
 *   range is one contiguous scan. flags = qos | retain << 2 | OUT_OF_LINE.
 * - payloads(seq INTEGER PRIMARY KEY, data): payloads over INLINE_MAX bytes (flag OUT_OF_LINE;
 *   messages.payload is then empty). A WITHOUT ROWID row keeps at most about 1 KB on its page and
 *   puts the rest on an overflow page of its own: a 1 KB payload took 4.7 KB on disk inline. A
 *   rowid table keeps up to about 4 KB on the page (version 2; a version 1 file gains the table).
 * - series(topic_id, field) and points(series_id, at, seq, value) WITHOUT ROWID: the numeric values;
 *   rollups(series_id, minute, n, sum, lo, hi) WITHOUT ROWID: their count, sum, min and max per
 *   minute, so a summary reads one row per minute inside a bucket and points only at its edges
 *   (version 3; an older file gains them, built from its points, when it is opened).
 * - minutes(minute, records, bytes): per-minute counts, so pruning picks a cutoff time exactly.
 * - link_events(at, seq, state): the bridge's own connects (1) and disconnects (0).
 * - held(client, batch, at, mids) WITHOUT ROWID: per MQTT session, the packet ids of its last
 *   batches, so a copy the broker resends after a crash is not written twice (redeliveries.ts;
 *   version 4).
 *
 * Pragmas: WAL with synchronous=NORMAL (a crash loses at most the last commits, never the file);
 * locking_mode=EXCLUSIVE, so a second bridge on the same file gets SQLITE_BUSY at open and is
 * refused (and no -shm file exists); auto_vacuum=INCREMENTAL set at creation, so pruned pages go
 * back to the file system; journal_size_limit keeps the WAL file at most WAL_LIMIT_BYTES after a
 * checkpoint.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import { HistoryFault, HistoryOpenError } from './types.js';

export const SCHEMA_ID = 'mqtt-mcp-bridge/history';
export const SCHEMA_VERSION = 4;
/** Payload plus properties bytes kept in the messages row; above, the payload goes to payloads. */
export const INLINE_MAX = 800;
/** messages.flags bit: the payload is in payloads under the record's seq. */
export const OUT_OF_LINE = 8;
/** A messages row with its payload wherever it is (columns of SELECT * with the payload resolved). */
export const MESSAGE_COLUMNS = `m.topic_id, m.at, m.seq, m.flags, m.size, m.properties,
  CASE WHEN m.flags & ${OUT_OF_LINE} THEN (SELECT data FROM payloads WHERE seq = m.seq) ELSE m.payload END AS payload`;
const PAYLOADS_TABLE = 'CREATE TABLE payloads(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);';
/** Per series and minute (at / 60000): count, sum, min and max of its points (version 3). */
const ROLLUPS_TABLE = `CREATE TABLE rollups(series_id INTEGER NOT NULL, minute INTEGER NOT NULL,
  n INTEGER NOT NULL, sum REAL NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL,
  PRIMARY KEY(series_id, minute)) WITHOUT ROWID;`;
/** Per MQTT session, the packet ids of its last batches (redeliveries.ts; version 4). */
const HELD_TABLE = `CREATE TABLE held(client TEXT NOT NULL, batch INTEGER NOT NULL, at INTEGER NOT NULL,
  mids BLOB NOT NULL, PRIMARY KEY(client, batch)) WITHOUT ROWID;`;
const BUILD_ROLLUPS = `INSERT INTO rollups SELECT series_id, at / 60000, count(*), total(value), min(value),
  max(value) FROM points GROUP BY series_id, at / 60000`;
/** The WAL is truncated to this after a checkpoint; part of the size margin (see sqlite-write.ts). */
export const WAL_LIMIT_BYTES = 4 * 1024 * 1024;
/** Reads through a memory map of up to this much of the file: no copy per page (summaries scan a lot). */
export const MMAP_BYTES = 256 * 1024 * 1024;
/**
 * Page cache of the one connection. A batch over N topics dirties about one leaf page per topic in
 * messages and in points, all held until COMMIT; SQLite's default 2 MiB (about 500 pages) spills
 * them to the WAL mid-transaction at a few hundred topics. 16 MiB holds a batch over 1,000 topics
 * (writer throughput in bench/cases/history.ts: about 1.4x in CPU, 2x and more in wall time).
 */
export const CACHE_BYTES = 16 * 1024 * 1024;

type Param = number | string | null | Uint8Array | bigint;

/** What the read and write halves need of the connection. */
export interface Sql {
  all(sql: string, ...params: Param[]): Record<string, unknown>[];
  get(sql: string, ...params: Param[]): Record<string, unknown> | undefined;
  iterate(sql: string, ...params: Param[]): Iterable<Record<string, unknown>>;
  run(sql: string, ...params: Param[]): number;
  exec(sql: string): void;
  /** The number of bytes in use: pages not on the free list, plus the WAL file. */
  usedBytes(): number;
  /** Main file plus WAL, as the file system counts them. */
  fileBytes(): number;
}

const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value ANY) WITHOUT ROWID;
CREATE TABLE topics(id INTEGER PRIMARY KEY, topic TEXT NOT NULL UNIQUE, first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL, last_seq INTEGER NOT NULL, last_retain INTEGER NOT NULL,
  last_size INTEGER NOT NULL, records INTEGER NOT NULL);
CREATE INDEX topics_first ON topics(first_at);
CREATE TABLE messages(topic_id INTEGER NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL,
  flags INTEGER NOT NULL, size INTEGER NOT NULL, payload BLOB NOT NULL, properties TEXT,
  PRIMARY KEY(topic_id, at, seq)) WITHOUT ROWID;
CREATE TABLE series(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, field TEXT NOT NULL,
  UNIQUE(topic_id, field));
CREATE TABLE points(series_id INTEGER NOT NULL, at INTEGER NOT NULL, seq INTEGER NOT NULL,
  value REAL NOT NULL, PRIMARY KEY(series_id, at, seq)) WITHOUT ROWID;
CREATE TABLE minutes(minute INTEGER PRIMARY KEY, records INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE TABLE link_events(at INTEGER NOT NULL, seq INTEGER NOT NULL, state INTEGER NOT NULL,
  PRIMARY KEY(at, seq)) WITHOUT ROWID;
${PAYLOADS_TABLE}
${ROLLUPS_TABLE}
${HELD_TABLE}
`;

/** SQLite primary result codes we tell apart. */
const SQLITE = {
  BUSY: 5,
  LOCKED: 6,
  READONLY: 8,
  IOERR: 10,
  CORRUPT: 11,
  FULL: 13,
  CANTOPEN: 14,
  NOTADB: 26,
};

function errcode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code & 0xff : undefined;
}

export class SqliteFile implements Sql {
  private readonly statements = new Map<string, StatementSync>();
  private readonly inode: number;

  private constructor(
    readonly path: string,
    private readonly db: DatabaseSync,
  ) {
    this.inode = statSync(path).ino;
  }

  /** Opens or creates the history file; HistoryOpenError (naming the path) when it cannot be ours. */
  /**
   * `broker`: whose history the file holds. A file that records none yet (new, or made before
   * files recorded it) is claimed for it; one that names another broker is refused.
   */
  static open(path: string, broker = 'default'): SqliteFile {
    const fresh = !existsSync(path) || statSync(path).size === 0;
    if (fresh) createEmpty(path);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout: 50 });
    } catch (error) {
      throw new HistoryOpenError(`cannot open the history file ${path}: ${(error as Error).message}`);
    }
    try {
      // Before anything that writes: a foreign or garbage file must stay byte-for-byte as it was.
      db.exec('PRAGMA locking_mode=EXCLUSIVE');
      if (fresh) {
        db.exec('PRAGMA auto_vacuum=INCREMENTAL');
      } else {
        checkOurs(db, path);
      }
      db.exec('PRAGMA journal_mode=WAL');
      db.exec('PRAGMA synchronous=NORMAL');
      db.exec(`PRAGMA journal_size_limit=${WAL_LIMIT_BYTES}`);
      db.exec(`PRAGMA mmap_size=${MMAP_BYTES}`);
      db.exec(`PRAGMA cache_size=-${CACHE_BYTES / 1024}`);
      db.exec('BEGIN IMMEDIATE'); // takes and keeps the exclusive lock
      if (fresh) {
        db.exec(SCHEMA);
        const put = db.prepare('INSERT INTO meta(key, value) VALUES (?, ?)');
        put.run('schema', SCHEMA_ID);
        put.run('version', SCHEMA_VERSION);
        put.run('seq', 0);
      }
      const version = fresh
        ? SCHEMA_VERSION
        : Number(db.prepare("SELECT value FROM meta WHERE key = 'version'").get()?.value);
      if (version < SCHEMA_VERSION) {
        if (version === 1) db.exec(PAYLOADS_TABLE); // version 1 -> 2: nothing stored out of line yet
        if (version < 3) {
          // -> 3: the per-minute rollups of the points already there.
          db.exec(ROLLUPS_TABLE.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS'));
          db.exec('DELETE FROM rollups');
          db.exec(BUILD_ROLLUPS);
        }
        db.exec(HELD_TABLE.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')); // -> 4: no packet ids kept yet
        db.prepare("UPDATE meta SET value = ? WHERE key = 'version'").run(SCHEMA_VERSION);
      }
      const owner = ownerOf(db);
      if (owner === undefined) db.prepare("INSERT INTO meta(key, value) VALUES ('broker', ?)").run(broker);
      else if (owner !== broker) {
        throw new HistoryOpenError(
          `${path} holds the history of broker '${owner}', not of '${broker}'; it was left as it was`,
        );
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.isOpen) db.close();
      if (error instanceof HistoryOpenError) throw error;
      const code = errcode(error);
      if (code === SQLITE.BUSY || code === SQLITE.LOCKED) {
        throw new HistoryOpenError(`another process is recording to ${path} (the history file is locked)`);
      }
      throw new HistoryOpenError(
        `the history file ${path} cannot be used: ${(error as Error).message}; it was left as it was`,
      );
    }
    return new SqliteFile(path, db);
  }

  private stmt(sql: string): StatementSync {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  all(sql: string, ...params: Param[]): Record<string, unknown>[] {
    return this.stmt(sql).all(...params);
  }

  get(sql: string, ...params: Param[]): Record<string, unknown> | undefined {
    return this.stmt(sql).get(...params);
  }

  iterate(sql: string, ...params: Param[]): Iterable<Record<string, unknown>> {
    // A fresh statement: iterations may nest (a query per topic inside a topic scan).
    return this.db.prepare(sql).iterate(...params);
  }

  run(sql: string, ...params: Param[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  get inTransaction(): boolean {
    return this.db.isTransaction;
  }

  usedBytes(): number {
    const row = this.db
      .prepare(
        'SELECT page_count, freelist_count, page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size',
      )
      .get() as Record<string, number>;
    return (
      ((row.page_count ?? 0) - (row.freelist_count ?? 0)) * (row.page_size ?? 0) + sizeOf(`${this.path}-wal`)
    );
  }

  fileBytes(): number {
    return sizeOf(this.path) + sizeOf(`${this.path}-wal`);
  }

  /** The file is still the one we opened (not deleted or replaced under us). */
  present(): boolean {
    try {
      return statSync(this.path).ino === this.inode;
    } catch {
      return false;
    }
  }

  /** A write error as a HistoryFault the recorder can pause on and retry after. */
  fault(error: unknown): HistoryFault {
    const message = error instanceof Error ? error.message : String(error);
    if (!this.present())
      return new HistoryFault('vanished', `the history file ${this.path} was deleted or replaced`);
    const code = errcode(error);
    if (code === SQLITE.FULL) return new HistoryFault('full', `the disk holding ${this.path} is full`);
    if (code === SQLITE.BUSY || code === SQLITE.LOCKED) {
      return new HistoryFault('locked', `the history file ${this.path} is locked`);
    }
    if (code === SQLITE.READONLY || !writable(this.path)) {
      return new HistoryFault('readonly', `the history file ${this.path} is read-only`);
    }
    return new HistoryFault('io', `the history file ${this.path} cannot be written: ${message}`);
  }

  /**
   * A consistent copy of the database (VACUUM INTO, compacted, without the WAL) at `destination`,
   * written under a temporary name with mode 0600 and renamed into place when complete.
   */
  backupTo(destination: string): void {
    const temporary = `${destination}.partial-${process.pid}`;
    closeSync(openSync(temporary, 'wx', 0o600));
    try {
      this.db.prepare('VACUUM INTO ?').run(temporary);
      renameSync(temporary, destination);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  close(): void {
    this.statements.clear();
    if (this.db.isOpen) this.db.close();
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Can we write the file and its WAL? (root ignores modes, not immutable files or read-only mounts) */
function writable(path: string): boolean {
  for (const p of [path, `${path}-wal`]) {
    if (!existsSync(p)) continue;
    try {
      closeSync(openSync(p, 'r+'));
    } catch {
      return false;
    }
  }
  return true;
}

function ownerOf(db: DatabaseSync): string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'broker'").get();
  return row === undefined ? undefined : String(row.value);
}

/**
 * The broker whose history the file at `path` holds, read without changing it (opened as open()
 * opens it, so no -shm file appears); undefined when it records none, is missing, not ours, or
 * in use by another process.
 */
export function recordedBroker(path: string): string | undefined {
  if (!existsSync(path) || statSync(path).size === 0) return undefined;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: 50 });
    db.exec('PRAGMA locking_mode=EXCLUSIVE');
    checkOurs(db, path);
    return ownerOf(db);
  } catch {
    return undefined;
  } finally {
    if (db?.isOpen === true) db.close();
  }
}

/** A new, empty file with mode 0600; the directory 0700 when we create it. */
function createEmpty(path: string): void {
  const dir = dirname(path);
  try {
    if (!existsSync(dir)) {
      const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (first !== undefined) chmodSync(dir, 0o700);
    }
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  } catch (error) {
    throw new HistoryOpenError(`cannot create the history file ${path}: ${(error as Error).message}`);
  }
}

/** Refuses (HistoryOpenError) a file that is not a history database of our schema. */
function checkOurs(db: DatabaseSync, path: string): void {
  let row: Record<string, unknown> | undefined;
  try {
    const meta = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").get();
    row = meta === undefined ? undefined : db.prepare("SELECT value FROM meta WHERE key = 'schema'").get();
  } catch (error) {
    const code = errcode(error);
    if (code === SQLITE.BUSY || code === SQLITE.LOCKED) throw error;
    if (code === SQLITE.NOTADB || code === SQLITE.CORRUPT) {
      throw new HistoryOpenError(
        `${path} is not a history database (or is corrupt); it was left as it was. Point HISTORY_PATH at another file or move this one away`,
      );
    }
    throw error;
  }
  if (row?.value !== SCHEMA_ID) {
    throw new HistoryOpenError(
      `${path} is an SQLite database but not a bridge history file; it was left as it was. Point HISTORY_PATH at another file`,
    );
  }
  const version = db.prepare("SELECT value FROM meta WHERE key = 'version'").get();
  if (![1, 2, 3, SCHEMA_VERSION].includes(Number(version?.value))) {
    throw new HistoryOpenError(
      `${path} is a history file of another version (${String(version?.value)}; this bridge reads ${SCHEMA_VERSION}); it was left as it was`,
    );
  }
}
