/**
 * The per-minute rollups of the numeric points (schema version 3): count, sum, min and max per
 * series and minute (at / 60000). The writer adds each batch to them; a summary reads one row per
 * whole minute inside a bucket and scans points only at the bucket's two edges. Pruning removes
 * them by whole minutes with their points (sqlite-prune.ts).
 */
import type { BucketAggregate } from './numeric.js';
import type { Sql } from './sqlite.js';

const MINUTE = 60_000;

export interface PointRow {
  seriesId: number;
  at: number;
  seq: number;
  value: number;
}

/** A batch's points (sorted by series and time) added to the per-minute rollups. */
export function rollUp(sql: Sql, points: readonly PointRow[]): void {
  let i = 0;
  while (i < points.length) {
    const first = points[i] as PointRow;
    const minute = Math.floor(first.at / MINUTE);
    let n = 0;
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (; i < points.length; i++) {
      const p = points[i] as PointRow;
      if (p.seriesId !== first.seriesId || Math.floor(p.at / MINUTE) !== minute) break;
      n++;
      sum += p.value;
      if (p.value < lo) lo = p.value;
      if (p.value > hi) hi = p.value;
    }
    sql.run(
      `INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(series_id, minute) DO UPDATE SET
         n = n + excluded.n, sum = sum + excluded.sum, lo = min(lo, excluded.lo), hi = max(hi, excluded.hi)`,
      first.seriesId,
      minute,
      n,
      sum,
      lo,
      hi,
    );
  }
}

/** count, min, max and sum of a series' points in [start, end); undefined when none. */
export function bucketAggregate(
  sql: Sql,
  id: number,
  start: number,
  end: number,
): BucketAggregate | undefined {
  const m0 = Math.ceil(start / MINUTE);
  const m1 = Math.floor(end / MINUTE);
  const parts =
    m0 < m1
      ? [
          pointsIn(sql, id, start, m0 * MINUTE),
          sql.get(
            'SELECT total(n) AS n, min(lo) AS lo, max(hi) AS hi, total(sum) AS sum FROM rollups WHERE series_id = ? AND minute >= ? AND minute < ?',
            id,
            m0,
            m1,
          ),
          pointsIn(sql, id, m1 * MINUTE, end),
        ]
      : [pointsIn(sql, id, start, end)];
  let out: BucketAggregate | undefined;
  for (const p of parts) {
    const n = Number(p?.n ?? 0);
    if (n === 0 || p === undefined) continue;
    const part = { count: n, min: Number(p.lo), max: Number(p.hi), sum: Number(p.sum) };
    out =
      out === undefined
        ? part
        : {
            count: out.count + part.count,
            min: Math.min(out.min, part.min),
            max: Math.max(out.max, part.max),
            sum: out.sum + part.sum,
          };
  }
  return out;
}

function pointsIn(sql: Sql, id: number, start: number, end: number): Record<string, unknown> | undefined {
  if (start >= end) return undefined;
  return sql.get(
    'SELECT count(*) AS n, min(value) AS lo, max(value) AS hi, total(value) AS sum FROM points WHERE series_id = ? AND at >= ? AND at < ?',
    id,
    start,
    end,
  );
}
