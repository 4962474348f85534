/**
 * The write half of the SQLite history: batches in one transaction each (records with their
 * numeric points, link events, the per-topic and per-minute counts, the global seq), and pruning
 * in small steps (sqlite-prune.ts). Runs in the worker thread, over the Sql interface of sqlite.ts.
 *
 * Size on disk and its margin: pruning measures the pages in use ((page_count - freelist_count)
 * x page_size) plus the WAL file. Above PRUNE_HIGH (95%) of maxBytes a step deletes the oldest
 * minutes until the estimate falls under PRUNE_LOW (90%), then PRAGMA incremental_vacuum returns
 * the freed pages to the file system. Between steps the file grows by what is written meanwhile;
 * the WAL is at most WAL_LIMIT_BYTES (4 MiB) after a checkpoint. So the file stays under
 * maxBytes + 4 MiB + what arrives between two pruning steps (at most STEP_ROWS records per step).
 */
import { extractNumeric, type NumericField } from './numeric.js';
import { rollUp, type PointRow } from './sqlite-rollups.js';
import { pruneStep, type PruneStep } from './sqlite-prune.js';
import { batchMids, isCopy, nextHeld, readMids, type HeldBatch } from './redeliveries.js';
import { INLINE_MAX, MESSAGE_COLUMNS, OUT_OF_LINE, type Sql } from './sqlite.js';
import type { HistoryRecord, LinkEvent } from './types.js';

/** Estimated bytes on disk per record and per point, beyond the payload (for the size cutoff). */
const RECORD_OVERHEAD = 32;
const POINT_BYTES = 28;
const MINUTE = 60_000;
const CACHE_LIMIT = 50_000;
const EMPTY = new Uint8Array(0);

interface TopicDelta {
  first: number;
  lastAt: number;
  lastSeq: number;
  lastRetain: number;
  lastSize: number;
  added: number;
  /** The newest record of the topic in this batch. */
  last: HistoryRecord;
}

interface MessageRow {
  topicId: number;
  at: number;
  seq: number;
  r: HistoryRecord;
  props: string | null;
}

export class SqliteWriter {
  private seq: number;
  private readonly topicIds = new Map<string, number>();
  private readonly seriesIds = new Map<string, number>();
  /** Records and topics on disk, kept as batches and prunes go. */
  records: number;
  topicCount: number;
  /** Retained replays not written since the file was opened (see isReplay). */
  replaysIgnored = 0;
  /** Resent copies of records committed before a crash, not written again (redeliveries.ts). */
  copiesRemoved = 0;
  /** The session's kept packet-id batches, newest first; undefined: not read yet. */
  private held: HeldBatch[] | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly maxFields: number,
    /** The numeric fields of one record (default: extractNumeric of its payload). */
    private readonly extract: (topic: string, payload: string, max: number) => NumericField[] = (
      _t,
      p,
      max,
    ) => extractNumeric(p, max),
    /** The MQTT session whose packet ids the batches keep (at-least-once recording). */
    private readonly session?: string,
  ) {
    this.seq = Number(sql.get("SELECT value FROM meta WHERE key = 'seq'")?.value ?? 0);
    const totals = sql.get('SELECT count(*) AS n, total(records) AS r FROM topics');
    this.topicCount = Number(totals?.n ?? 0);
    this.records = Number(totals?.r ?? 0);
  }

  append(records: readonly HistoryRecord[], events: readonly LinkEvent[]): void {
    const { sql } = this;
    let seq = this.seq;
    let newTopics = 0;
    let replays = 0;
    let copies = 0;
    const deltas = new Map<number, TopicDelta>();
    const minutes = new Map<number, { records: number; bytes: number }>();
    const rows: MessageRow[] = [];
    const points: PointRow[] = [];
    const mids = this.session !== undefined ? batchMids(records) : undefined;
    let held: HeldBatch[] = [];
    sql.exec('BEGIN');
    try {
      if (mids !== undefined) held = this.heldBatches();
      for (const r of records) {
        if (r.redelivered === true && isCopy(r, held)) {
          copies++;
          continue;
        }
        let topicId = this.topicIds.get(r.topic);
        if (topicId === undefined) {
          const row = sql.get('SELECT id FROM topics WHERE topic = ?', r.topic);
          if (row === undefined) {
            sql.run(
              'INSERT INTO topics(topic, first_at, last_at, last_seq, last_retain, last_size, records) VALUES (?, ?, ?, 0, 0, 0, 0)',
              r.topic,
              r.receivedAt,
              r.receivedAt,
            );
            newTopics++;
          }
          topicId = Number((row ?? sql.get('SELECT last_insert_rowid() AS id'))?.id);
          this.remember(this.topicIds, r.topic, topicId);
        }
        const d = deltas.get(topicId);
        if (r.retain && this.isReplay(topicId, r, d)) {
          replays++;
          continue;
        }
        seq++;
        const at = r.receivedAt;
        const props = r.properties === undefined ? null : JSON.stringify(r.properties);
        rows.push({ topicId, at, seq, r, props });
        const fields = this.extract(r.topic, r.payload, this.maxFields);
        for (const f of fields)
          points.push({ seriesId: this.seriesId(topicId, f.field), at, seq, value: f.value });
        const retain = r.retain ? 1 : 0;
        if (d === undefined) {
          deltas.set(topicId, {
            first: at,
            lastAt: at,
            lastSeq: seq,
            lastRetain: retain,
            lastSize: r.sizeBytes,
            added: 1,
            last: r,
          });
        } else {
          d.added++;
          if (at < d.first) d.first = at;
          if (at >= d.lastAt)
            Object.assign(d, {
              lastAt: at,
              lastSeq: seq,
              lastRetain: retain,
              lastSize: r.sizeBytes,
              last: r,
            });
        }
        const minute = Math.floor(at / MINUTE) * MINUTE;
        const m = minutes.get(minute) ?? { records: 0, bytes: 0 };
        m.records++;
        m.bytes += r.payload.length + (props?.length ?? 0) + RECORD_OVERHEAD + POINT_BYTES * fields.length;
        minutes.set(minute, m);
      }
      // In key order: consecutive inserts land on the same leaf page, so each page of the
      // clustered tables is found and split once per batch, not once per record (about +35% in
      // inserts per CPU second with 1,000 topics interleaved; bench/cases/history.ts).
      rows.sort((a, b) => a.topicId - b.topicId || a.at - b.at || a.seq - b.seq);
      for (const { topicId, at, seq: s, r, props } of rows) {
        const bytes = Buffer.from(r.payload, 'latin1');
        const outOfLine = bytes.length + (props?.length ?? 0) > INLINE_MAX;
        sql.run(
          'INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)',
          topicId,
          at,
          s,
          r.qos | (r.retain ? 4 : 0) | (outOfLine ? OUT_OF_LINE : 0),
          r.sizeBytes,
          outOfLine ? EMPTY : bytes,
          props,
        );
        if (outOfLine) sql.run('INSERT INTO payloads VALUES (?, ?)', s, bytes);
      }
      points.sort((a, b) => a.seriesId - b.seriesId || a.at - b.at || a.seq - b.seq);
      for (const p of points)
        sql.run('INSERT INTO points VALUES (?, ?, ?, ?)', p.seriesId, p.at, p.seq, p.value);
      rollUp(sql, points);
      for (const [id, d] of deltas) {
        sql.run(
          `UPDATE topics SET first_at = min(first_at, ?), records = records + ?,
             last_seq = CASE WHEN ? >= last_at THEN ? ELSE last_seq END,
             last_retain = CASE WHEN ? >= last_at THEN ? ELSE last_retain END,
             last_size = CASE WHEN ? >= last_at THEN ? ELSE last_size END,
             last_at = max(last_at, ?) WHERE id = ?`,
          d.first,
          d.added,
          d.lastAt,
          d.lastSeq,
          d.lastAt,
          d.lastRetain,
          d.lastAt,
          d.lastSize,
          d.lastAt,
          id,
        );
      }
      for (const [minute, m] of minutes) {
        sql.run(
          'INSERT INTO minutes VALUES (?, ?, ?) ON CONFLICT(minute) DO UPDATE SET records = records + excluded.records, bytes = bytes + excluded.bytes',
          minute,
          m.records,
          m.bytes,
        );
      }
      for (const e of events) {
        seq++;
        sql.run('INSERT INTO link_events VALUES (?, ?, ?)', e.at, seq, e.state === 'up' ? 1 : 0);
      }
      sql.run("UPDATE meta SET value = ? WHERE key = 'seq'", seq);
      if (mids !== undefined) held = this.keepMids(held, mids);
      sql.exec('COMMIT');
    } catch (error) {
      this.rollback();
      throw error;
    }
    if (mids !== undefined) this.held = held;
    this.seq = seq;
    this.records += rows.length;
    this.replaysIgnored += replays;
    this.copiesRemoved += copies;
    this.topicCount += newTopics;
  }

  private heldBatches(): HeldBatch[] {
    this.held ??= this.sql
      .all('SELECT batch, mids FROM held WHERE client = ? ORDER BY batch DESC', this.session as string)
      .map((row) => ({ batch: Number(row.batch), mids: readMids(row.mids as Uint8Array) }));
    return this.held;
  }

  /** Stores this batch's packet ids (inside its transaction) and drops the session's batches past the kept ones. */
  private keepMids(held: HeldBatch[], mids: Uint8Array): HeldBatch[] {
    const { batch, kept, dropBelow } = nextHeld(held, mids);
    this.sql.run('INSERT INTO held VALUES (?, ?, ?, ?)', this.session as string, batch, Date.now(), mids);
    if (dropBelow !== undefined)
      this.sql.run('DELETE FROM held WHERE client = ? AND batch < ?', this.session as string, dropBelow);
    return kept;
  }

  /** After a failed transaction: undo it, and forget ids it may have created. */
  private rollback(): void {
    try {
      this.sql.exec('ROLLBACK');
    } catch {
      // SQLite already rolled back (a full disk or I/O error ends the transaction itself).
    }
    this.topicIds.clear();
    this.seriesIds.clear();
    this.held = undefined;
  }

  /**
   * A retained message is a replay, not news, when its bytes equal the topic's last recorded
   * record (its payload and original size), whatever that record's own retain flag: the broker
   * resends its retained messages on every (re)subscription, and a live delivery to a standing
   * subscription carries retain=false (the bridge does not ask for retain-as-published), so a
   * device that published once and went silent was recorded with retain=false and comes back
   * after each restart with retain=true. Writing it again would give the topic a new last time.
   * A retained message with other bytes is a change and is recorded.
   */
  private isReplay(topicId: number, r: HistoryRecord, inBatch: TopicDelta | undefined): boolean {
    if (inBatch !== undefined)
      return inBatch.last.payload === r.payload && inBatch.last.sizeBytes === r.sizeBytes;
    const last = this.sql.get(
      `SELECT ${MESSAGE_COLUMNS} FROM topics t JOIN messages m ON m.topic_id = t.id AND m.at = t.last_at AND m.seq = t.last_seq WHERE t.id = ?`,
      topicId,
    );
    if (last === undefined || Number(last.size) !== r.sizeBytes) return false;
    const bytes = last.payload as Uint8Array;
    return bytes.byteLength === r.payload.length && Buffer.from(r.payload, 'latin1').equals(bytes);
  }

  private seriesId(topicId: number, field: string): number {
    const key = `${topicId}\u0000${field}`;
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      const row = this.sql.get('SELECT id FROM series WHERE topic_id = ? AND field = ?', topicId, field);
      if (row === undefined)
        this.sql.run('INSERT INTO series(topic_id, field) VALUES (?, ?)', topicId, field);
      id = Number((row ?? this.sql.get('SELECT last_insert_rowid() AS id'))?.id);
      this.remember(this.seriesIds, key, id);
    }
    return id;
  }

  private remember(map: Map<string, number>, key: string, id: number): void {
    if (map.size >= CACHE_LIMIT) map.clear();
    map.set(key, id);
  }

  /** One pruning step (sqlite-prune.ts); the id caches are dropped when topics may have gone. */
  prune(now: number, retentionMs: number, maxBytes: number): number {
    let step: PruneStep;
    try {
      step = pruneStep(this.sql, now, retentionMs, maxBytes);
    } catch (error) {
      this.rollback();
      throw error;
    }
    if (step.removed > 0) {
      this.topicIds.clear();
      this.seriesIds.clear();
    }
    this.held = undefined; // read again: old sessions' ids may be gone
    this.records -= step.removed;
    this.topicCount -= step.topicsRemoved;
    return step.removed;
  }
}
