/**
 * Pruning of the SQLite history in small steps, by age and by size (the margin is described in
 * sqlite-write.ts). Runs in the worker thread over the Sql interface of sqlite.ts; the writer
 * calls it and forgets its cached ids when records went.
 */
import { OUT_OF_LINE, type Sql } from './sqlite.js';

export const PRUNE_HIGH = 0.95;
export const PRUNE_LOW = 0.9;
/** Most records deleted by one pruning step (plus at most one minute's worth when it is larger). */
export const STEP_ROWS = 20_000;
const MINUTE = 60_000;

export interface PruneStep {
  readonly removed: number;
  /** Topics left without records, deleted with their series. */
  readonly topicsRemoved: number;
}

/**
 * One pruning step: everything received before one cutoff time goes, across all topics (so no
 * record is removed while an older one is kept). The cutoff is the retention limit (to the
 * minute) or, over PRUNE_HIGH of maxBytes, the end of the oldest minutes whose estimated bytes
 * bring the file under PRUNE_LOW; capped so a step removes about STEP_ROWS records at most.
 */
export function pruneStep(sql: Sql, now: number, retentionMs: number, maxBytes: number): PruneStep {
  const ageCut = Math.floor((now - retentionMs) / MINUTE) * MINUTE;
  sql.exec('PRAGMA wal_checkpoint(TRUNCATE)'); // so the WAL is not counted twice with its pages
  // Packet ids of sessions that recorded nothing for the retention time (a few rows a session).
  sql.run('DELETE FROM held WHERE at < ?', ageCut);
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
    return { removed: 0, topicsRemoved: 0 };
  }
  // The caller (SqliteWriter.prune) rolls back when a statement fails.
  sql.exec('BEGIN');
  let removed = 0;
  let topicsRemoved = 0;
  for (const t of sql.all('SELECT id FROM topics WHERE first_at < ?', cutoff)) {
    const id = Number(t.id);
    sql.run(
      `DELETE FROM payloads WHERE seq IN (SELECT seq FROM messages WHERE topic_id = ? AND at < ? AND flags & ${OUT_OF_LINE})`,
      id,
      cutoff,
    );
    const gone = sql.run('DELETE FROM messages WHERE topic_id = ? AND at < ?', id, cutoff);
    removed += gone;
    for (const s of sql.all('SELECT id FROM series WHERE topic_id = ?', id)) {
      sql.run('DELETE FROM points WHERE series_id = ? AND at < ?', Number(s.id), cutoff);
      // The cutoff is a whole minute, so rollups go by whole minutes with their points.
      sql.run('DELETE FROM rollups WHERE series_id = ? AND minute < ?', Number(s.id), cutoff / MINUTE);
    }
    const rest = sql.get('SELECT at FROM messages WHERE topic_id = ? ORDER BY at LIMIT 1', id);
    if (rest === undefined) {
      for (const s of sql.all('SELECT id FROM series WHERE topic_id = ?', id)) {
        sql.run('DELETE FROM points WHERE series_id = ?', Number(s.id));
        sql.run('DELETE FROM rollups WHERE series_id = ?', Number(s.id));
      }
      sql.run('DELETE FROM series WHERE topic_id = ?', id);
      sql.run('DELETE FROM topics WHERE id = ?', id);
      topicsRemoved++;
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
  if (removed > 0) sql.exec('PRAGMA incremental_vacuum');
  return { removed, topicsRemoved };
}
