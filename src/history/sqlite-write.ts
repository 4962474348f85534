/**
 * The write half of the SQLite history: batches in one transaction each (records with their
 * numeric points, link events, the per-topic and per-minute counts, the global seq), and pruning
 * in small steps. Runs in the worker thread, over the Sql interface of sqlite.ts.
 *
 * Size on disk and its margin: pruning measures the pages in use ((page_count - freelist_count)
 * x page_size) plus the WAL file. Above PRUNE_HIGH (95%) of maxBytes a step deletes the oldest
 * minutes until the estimate falls under PRUNE_LOW (90%), then PRAGMA incremental_vacuum returns
 * the freed pages to the file system. Between steps the file grows by what is written meanwhile;
 * the WAL is at most WAL_LIMIT_BYTES (4 MiB) after a checkpoint. So the file stays under
 * maxBytes + 4 MiB + what arrives between two pruning steps (at most STEP_ROWS records per step).
 */
import { extractNumeric } from './numeric.js';
import type { Sql } from './sqlite.js';
import type { HistoryRecord, LinkEvent } from './types.js';

export const PRUNE_HIGH = 0.95;
export const PRUNE_LOW = 0.9;
/** Most records deleted by one pruning step (plus at most one minute's worth when it is larger). */
export const STEP_ROWS = 20_000;
/** Estimated bytes on disk per record and per point, beyond the payload (for the size cutoff). */
const RECORD_OVERHEAD = 32;
const POINT_BYTES = 28;
const MINUTE = 60_000;
const CACHE_LIMIT = 50_000;

interface TopicDelta {
  first: number;
  lastAt: number;
  lastSeq: number;
  lastRetain: number;
  lastSize: number;
  added: number;
}

export class SqliteWriter {
  private seq: number;
  private readonly topicIds = new Map<string, number>();
  private readonly seriesIds = new Map<string, number>();
  /** Records and topics on disk, kept as batches and prunes go. */
  records: number;
  topicCount: number;

  constructor(
    private readonly sql: Sql,
    private readonly maxFields: number,
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
    const deltas = new Map<number, TopicDelta>();
    const minutes = new Map<number, { records: number; bytes: number }>();
    sql.exec('BEGIN');
    try {
      for (const r of records) {
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
        seq++;
        const at = r.receivedAt;
        const props = r.properties === undefined ? null : JSON.stringify(r.properties);
        sql.run(
          'INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)',
          topicId,
          at,
          seq,
          r.qos | (r.retain ? 4 : 0),
          r.sizeBytes,
          Buffer.from(r.payload, 'latin1'),
          props,
        );
        const fields = extractNumeric(r.payload, this.maxFields);
        for (const f of fields) {
          sql.run(
            'INSERT INTO points VALUES (?, ?, ?, ?)',
            this.seriesId(topicId, f.field),
            at,
            seq,
            f.value,
          );
        }
        const d = deltas.get(topicId);
        const retain = r.retain ? 1 : 0;
        if (d === undefined) {
          deltas.set(topicId, {
            first: at,
            lastAt: at,
            lastSeq: seq,
            lastRetain: retain,
            lastSize: r.sizeBytes,
            added: 1,
          });
        } else {
          d.added++;
          if (at < d.first) d.first = at;
          if (at >= d.lastAt)
            Object.assign(d, { lastAt: at, lastSeq: seq, lastRetain: retain, lastSize: r.sizeBytes });
        }
        const minute = Math.floor(at / MINUTE) * MINUTE;
        const m = minutes.get(minute) ?? { records: 0, bytes: 0 };
        m.records++;
        m.bytes += r.payload.length + (props?.length ?? 0) + RECORD_OVERHEAD + POINT_BYTES * fields.length;
        minutes.set(minute, m);
      }
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
      sql.exec('COMMIT');
    } catch (error) {
      this.rollback();
      throw error;
    }
    this.seq = seq;
    this.records += records.length;
    this.topicCount += newTopics;
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

  /**
   * One pruning step: everything received before one cutoff time goes, across all topics (so no
   * record is removed while an older one is kept). The cutoff is the retention limit (to the
   * minute) or, over PRUNE_HIGH of maxBytes, the end of the oldest minutes whose estimated bytes
   * bring the file under PRUNE_LOW; capped so a step removes about STEP_ROWS records at most.
   */
  prune(now: number, retentionMs: number, maxBytes: number): number {
    const { sql } = this;
    const ageCut = Math.floor((now - retentionMs) / MINUTE) * MINUTE;
    sql.exec('PRAGMA wal_checkpoint(TRUNCATE)'); // so the WAL is not counted twice with its pages
    const used = sql.usedBytes();
    let toFree = used > maxBytes * PRUNE_HIGH ? used - maxBytes * PRUNE_LOW : 0;
    let rows = 0;
    let cutoff: number | undefined;
    for (const m of sql.iterate('SELECT minute, records, bytes FROM minutes ORDER BY minute')) {
      const minute = Number(m.minute);
      if (minute >= ageCut && toFree <= 0) break;
      if (rows > 0 && rows + Number(m.records) > STEP_ROWS) break;
      rows += Number(m.records);
      toFree -= Number(m.bytes);
      cutoff = minute + MINUTE;
    }
    if (cutoff === undefined) {
      sql.run('DELETE FROM link_events WHERE at < ?', ageCut);
      return 0;
    }
    sql.exec('BEGIN');
    let removed = 0;
    try {
      for (const t of sql.all('SELECT id FROM topics WHERE first_at < ?', cutoff)) {
        const id = Number(t.id);
        const gone = sql.run('DELETE FROM messages WHERE topic_id = ? AND at < ?', id, cutoff);
        removed += gone;
        for (const s of sql.all('SELECT id FROM series WHERE topic_id = ?', id)) {
          sql.run('DELETE FROM points WHERE series_id = ? AND at < ?', Number(s.id), cutoff);
        }
        const rest = sql.get('SELECT at FROM messages WHERE topic_id = ? ORDER BY at LIMIT 1', id);
        if (rest === undefined) {
          for (const s of sql.all('SELECT id FROM series WHERE topic_id = ?', id)) {
            sql.run('DELETE FROM points WHERE series_id = ?', Number(s.id));
          }
          sql.run('DELETE FROM series WHERE topic_id = ?', id);
          sql.run('DELETE FROM topics WHERE id = ?', id);
          this.topicCount--;
        } else {
          sql.run(
            'UPDATE topics SET first_at = ?, records = records - ? WHERE id = ?',
            Number(rest.at),
            gone,
            id,
          );
        }
      }
      sql.run('DELETE FROM minutes WHERE minute < ?', cutoff);
      sql.run('DELETE FROM link_events WHERE at < ?', ageCut);
      sql.exec('COMMIT');
    } catch (error) {
      this.rollback();
      throw error;
    }
    if (removed > 0) {
      this.topicIds.clear();
      this.seriesIds.clear();
      sql.exec('PRAGMA incremental_vacuum');
    }
    this.records -= removed;
    return removed;
  }
}
