/**
 * Pruning of the PostgreSQL history in small steps, by age and by size, one transaction each,
 * and by one replica at a time (pg_try_advisory_xact_lock: another replica's step is already on).
 *
 * A step that can take a whole day (older than the retention, or needed to get under the size
 * limit and not the newest day) drops that day's partitions: no DELETE, no dead rows, no VACUUM.
 * Otherwise it deletes the oldest minutes, at most about STEP_ROWS records, like the SQLite
 * writer. The size is the writer's estimate per minute (minutes.bytes: payload, properties and
 * the per-row cost of heap and index); PostgreSQL reuses the space of deleted rows after
 * autovacuum and returns a dropped day's files at once.
 */
import type { Pg } from './postgres.js';
import { DAY, dropDay, LOCK } from './postgres-schema.js';

export const PRUNE_HIGH = 0.95;
export const PRUNE_LOW = 0.9;
export const STEP_ROWS = 20_000;
const MINUTE = 60_000;

export interface PruneStep {
  readonly removed: number;
}

/** Estimated bytes the history's rows take (the writer's per-minute estimate). */
export async function usedBytes(db: Pg): Promise<number> {
  const [row] = await db.query(`SELECT coalesce(sum(bytes), 0) AS b FROM ${db.schema}.minutes`);
  return Number(row?.b ?? 0);
}

export async function pruneStep(
  db: Pg,
  now: number,
  retentionMs: number,
  maxBytes: number,
): Promise<PruneStep> {
  return db.transaction(async (tx) => {
    // One pruner per schema at a time (several brokers each prune their own).
    const [lock] = await tx.query('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [
      LOCK.prune,
      tx.schema,
    ]);
    if (lock?.ok !== true) return { removed: 0 };
    const ageCut = Math.floor((now - retentionMs) / MINUTE) * MINUTE;
    await tx.query(`DELETE FROM ${tx.schema}.link_events WHERE at < $1`, [ageCut]);
    // Packet ids of sessions that recorded nothing for the retention time (redeliveries.ts).
    await tx.query(`DELETE FROM ${tx.schema}.held WHERE at < $1`, [ageCut]);
    const used = await usedBytes(tx);
    let toFree = used > maxBytes * PRUNE_HIGH ? used - maxBytes * PRUNE_LOW : 0;
    const days = (await tx.query(`SELECT day FROM ${tx.schema}.partitions ORDER BY day`)).map((r) =>
      Number(r.day),
    );
    const oldest = days[0];
    if (oldest !== undefined && days.length > 1) {
      const [d] = await tx.query(
        `SELECT coalesce(sum(bytes), 0) AS b, count(*) AS n FROM ${tx.schema}.minutes WHERE minute < $1`,
        [oldest + DAY],
      );
      if (oldest + DAY <= ageCut || (toFree > 0 && Number(d?.b) <= toFree))
        return { removed: await dropOldest(tx, oldest) };
    } else if (oldest !== undefined && oldest + DAY <= ageCut) {
      return { removed: await dropOldest(tx, oldest) };
    }
    let rows = 0;
    let cutoff: number | undefined;
    for (const m of await tx.query(
      `SELECT minute, records, bytes FROM ${tx.schema}.minutes ORDER BY minute LIMIT 5000`,
    )) {
      const minute = Number(m.minute);
      if (minute >= ageCut && toFree <= 0) break;
      if (rows > 0 && rows + Number(m.records) > STEP_ROWS) break;
      rows += Number(m.records);
      toFree -= Number(m.bytes);
      cutoff = minute + MINUTE;
    }
    if (cutoff === undefined) return { removed: 0 };
    const gone = await tx.query(
      `WITH gone AS (DELETE FROM ${tx.schema}.messages WHERE at < $1 RETURNING topic_id, at)
       SELECT topic_id, div(at, ${DAY}) * ${DAY} AS day, count(*) AS n FROM gone GROUP BY 1, 2 ORDER BY 2, 1`,
      [cutoff],
    );
    const ids = gone.map((g) => Number(g.topic_id));
    const dayList = gone.map((g) => Number(g.day));
    const counts = gone.map((g) => Number(g.n));
    await tx.query(
      `UPDATE ${tx.schema}.topic_days d SET records = d.records - u.n FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS u(id, day, n)
       WHERE d.topic_id = u.id AND d.day = u.day`,
      [ids, dayList, counts],
    );
    await tx.query(`DELETE FROM ${tx.schema}.topic_days WHERE records <= 0`);
    await tx.query(`DELETE FROM ${tx.schema}.points WHERE at < $1`, [cutoff]);
    await tx.query(`DELETE FROM ${tx.schema}.rollups WHERE minute < $1`, [cutoff / MINUTE]);
    await tx.query(`DELETE FROM ${tx.schema}.minutes WHERE minute < $1`, [cutoff]);
    const removed = counts.reduce((a, b) => a + b, 0);
    await settleTopics(tx, ids, counts, cutoff);
    return { removed };
  });
}

/** Drops the oldest day's partitions; its per-topic counts come off the topics. */
async function dropOldest(tx: Pg, day: number): Promise<number> {
  const rows = await tx.query(
    `SELECT topic_id, records FROM ${tx.schema}.topic_days WHERE day = $1 ORDER BY topic_id`,
    [day],
  );
  await dropDay(tx, day);
  await tx.query(`DELETE FROM ${tx.schema}.topic_days WHERE day = $1`, [day]);
  await tx.query(`DELETE FROM ${tx.schema}.minutes WHERE minute < $1`, [day + DAY]);
  const ids = rows.map((r) => Number(r.topic_id));
  const counts = rows.map((r) => Number(r.records));
  await settleTopics(tx, ids, counts, day + DAY);
  return counts.reduce((a, b) => a + b, 0);
}

/** Takes removed records off their topics; a topic left empty goes with its series and points. */
async function settleTopics(tx: Pg, ids: number[], counts: number[], cutoff: number): Promise<void> {
  if (ids.length === 0) return;
  const empty = await tx.query(
    `WITH c AS (SELECT id, sum(n) AS n FROM unnest($1::integer[], $2::bigint[]) AS u(id, n) GROUP BY id ORDER BY id)
     UPDATE ${tx.schema}.topics t SET records = t.records - c.n FROM c WHERE t.id = c.id RETURNING t.id, t.records`,
    [ids, counts],
  );
  const gone = empty.filter((r) => Number(r.records) <= 0).map((r) => Number(r.id));
  const kept = empty.filter((r) => Number(r.records) > 0).map((r) => Number(r.id));
  if (gone.length > 0) {
    await tx.query(
      `DELETE FROM ${tx.schema}.rollups WHERE series_id IN (SELECT id FROM ${tx.schema}.series WHERE topic_id = ANY($1::integer[]))`,
      [gone],
    );
    await tx.query(
      `DELETE FROM ${tx.schema}.points WHERE series_id IN (SELECT id FROM ${tx.schema}.series WHERE topic_id = ANY($1::integer[]))`,
      [gone],
    );
    await tx.query(`DELETE FROM ${tx.schema}.series WHERE topic_id = ANY($1::integer[])`, [gone]);
    await tx.query(`DELETE FROM ${tx.schema}.topic_days WHERE topic_id = ANY($1::integer[])`, [gone]);
    await tx.query(`DELETE FROM ${tx.schema}.topics WHERE id = ANY($1::integer[])`, [gone]);
  }
  if (kept.length > 0) {
    await tx.query(
      `UPDATE ${tx.schema}.topics t SET first_at = coalesce((SELECT min(at) FROM ${tx.schema}.messages m WHERE m.topic_id = t.id), t.first_at)
       WHERE t.id = ANY($1::integer[]) AND t.first_at < $2`,
      [kept, cutoff],
    );
  }
}
