/**
 * The write half of the PostgreSQL history: one batch in one transaction, every table written by
 * one multi-row INSERT over unnest() of arrays (a round trip per table, not per record), and
 * pruning in small steps (postgres-prune.ts).
 *
 * Several replicas may write at once: topic and series ids come from INSERT ... ON CONFLICT DO
 * NOTHING and a SELECT, rows that several batches touch (topics, minutes, topic_days) are updated
 * in id order so two transactions never wait on each other in a circle, and seq comes from one
 * sequence. The retained-replay rule is the SQLite writer's (see isReplay there).
 */
import { extractNumeric, type NumericField } from './numeric.js';
import type { Pg } from './postgres.js';
import { createDays, dayOf, knownDays } from './postgres-schema.js';
import { batchMids, isCopy, nextHeld, readMids, type HeldBatch } from './redeliveries.js';
import type { HistoryRecord, LinkEvent } from './types.js';

const MINUTE = 60_000;
/**
 * Estimated bytes a record takes in PostgreSQL beyond payload and properties (heap tuple, index
 * entry, counts), and per numeric point (its row, index entry and share of a rollup): 267 B measured
 * for a record with one field and a 9-byte payload (bench/cases/history-pg.ts), 249 B estimated.
 */
export const RECORD_OVERHEAD = 130;
export const POINT_BYTES = 110;
const CACHE_LIMIT = 50_000;

type Extract = (topic: string, payload: string, max: number) => NumericField[];

/** Sparkplug BIRTHs another writer (or an earlier run) recorded: looked up before a batch. */
export interface BirthLookup {
  needed(records: Iterable<{ readonly topic: string }>): string[];
  seed(asked: readonly string[], found: ReadonlyMap<string, string>): void;
}

interface TopicDelta {
  first: number;
  lastAt: number;
  lastSeq: number;
  lastRetain: boolean;
  lastSize: number;
  added: number;
  last: HistoryRecord;
}

export class PgWriter {
  private readonly topicIds = new Map<string, number>();
  private readonly seriesIds = new Map<string, number>();
  private days: Set<number> | undefined;
  replaysIgnored = 0;
  /** Resent copies of records committed before a crash, not written again (redeliveries.ts). */
  copiesRemoved = 0;
  /** The session's kept packet-id batches, newest first; undefined: not read yet. */
  private held: HeldBatch[] | undefined;

  constructor(
    private readonly db: Pg,
    private readonly maxFields: number,
    private readonly extract: Extract = (_t, p, max) => extractNumeric(p, max),
    private readonly births?: BirthLookup,
    /** The broker a record names when it names none (the `broker` column). */
    private readonly broker = 'default',
    /** The MQTT session whose packet ids the batches keep (at-least-once recording). */
    private readonly session?: string,
  ) {}

  /** Forget cached ids and partitions (after a failed transaction, or pruning). */
  forget(): void {
    this.topicIds.clear();
    this.seriesIds.clear();
    this.days = undefined;
    this.held = undefined;
  }

  async append(records: readonly HistoryRecord[], events: readonly LinkEvent[]): Promise<void> {
    await this.ensureDays(records);
    await this.lookUpBirths(records);
    const mids = this.session !== undefined ? batchMids(records) : undefined;
    try {
      const done = await this.db.transaction(async (tx) => {
        if (mids === undefined) return { replays: await this.write(tx, records, events), copies: 0 };
        const held = await this.heldBatches(tx);
        const fresh = records.filter((r) => !(r.redelivered === true && isCopy(r, held)));
        const replays = await this.write(tx, fresh, events);
        return { replays, copies: records.length - fresh.length, held: await this.keepMids(tx, held, mids) };
      });
      this.replaysIgnored += done.replays;
      this.copiesRemoved += done.copies;
      if (done.held !== undefined) this.held = done.held;
    } catch (error) {
      this.forget();
      throw error;
    }
  }

  private async heldBatches(tx: Pg): Promise<HeldBatch[]> {
    this.held ??= (
      await tx.query(`SELECT batch, mids FROM ${tx.schema}.held WHERE client = $1 ORDER BY batch DESC`, [
        this.session,
      ])
    ).map((row) => ({ batch: Number(row.batch), mids: readMids(row.mids as Uint8Array) }));
    return this.held;
  }

  /** Stores this batch's packet ids (inside its transaction) and drops the session's batches past the kept ones. */
  private async keepMids(tx: Pg, held: HeldBatch[], mids: Uint8Array): Promise<HeldBatch[]> {
    const { batch, kept, dropBelow } = nextHeld(held, mids);
    // A second process on the same session (a takeover) may have written this batch number.
    await tx.query(
      `INSERT INTO ${tx.schema}.held VALUES ($1, $2, $3, $4)
       ON CONFLICT (client, batch) DO UPDATE SET at = excluded.at, mids = excluded.mids`,
      [this.session, batch, Date.now(), Buffer.from(mids.buffer, mids.byteOffset, mids.byteLength)],
    );
    if (dropBelow !== undefined)
      await tx.query(`DELETE FROM ${tx.schema}.held WHERE client = $1 AND batch < $2`, [
        this.session,
        dropBelow,
      ]);
    return kept;
  }

  /**
   * The last recorded BIRTH of each Sparkplug node or device whose DATA is in the batch and whose
   * BIRTH this writer has not seen: recorded before a restart, or by another replica of a share
   * group (which may have got the BIRTH while this one gets the DATA). One query, by the topics'
   * last record.
   */
  private async lookUpBirths(records: readonly HistoryRecord[]): Promise<void> {
    const asked = this.births?.needed(records) ?? [];
    if (asked.length === 0) return;
    const rows = await this.db.query(
      `SELECT t.topic, m.payload FROM ${this.db.schema}.topics t
       JOIN ${this.db.schema}.messages m ON m.topic_id = t.id AND m.at = t.last_at AND m.seq = t.last_seq
       WHERE t.topic = ANY($1::text[])`,
      [asked],
    );
    this.births?.seed(
      asked,
      new Map(rows.map((r) => [r.topic as string, (r.payload as Buffer).toString('latin1')])),
    );
  }

  private async ensureDays(records: readonly HistoryRecord[]): Promise<void> {
    this.days ??= await knownDays(this.db);
    const need = new Set<number>();
    for (const r of records) {
      const d = dayOf(r.receivedAt);
      if (!this.days.has(d)) need.add(d);
    }
    if (need.size === 0) return;
    await createDays(
      this.db,
      [...need].sort((a, b) => a - b),
    );
    for (const d of need) this.days.add(d);
  }

  private async write(
    tx: Pg,
    records: readonly HistoryRecord[],
    events: readonly LinkEvent[],
  ): Promise<number> {
    const firstAt = new Map<string, number>();
    for (const r of records) if (!firstAt.has(r.topic)) firstAt.set(r.topic, r.receivedAt);
    const ids = await this.idsOf(
      records.map((r) => r.topic),
      this.topicIds,
      async (names) => {
        const firsts = names.map((n) => firstAt.get(n) ?? 0);
        await tx.query(
          `INSERT INTO ${tx.schema}.topics(topic, first_at, last_at, last_seq, last_retain, last_size)
           SELECT t, a, a, 0, false, 0 FROM unnest($1::text[], $2::bigint[]) AS u(t, a) ORDER BY t
           ON CONFLICT (topic) DO NOTHING`,
          [names, firsts],
        );
        const rows = await tx.query(
          `SELECT id, topic FROM ${tx.schema}.topics WHERE topic = ANY($1::text[])`,
          [names],
        );
        return rows.map((r) => [r.topic as string, Number(r.id)]);
      },
    );
    const lastPayloads = await this.lastPayloads(tx, records, ids);
    const seqs = await tx.query(`SELECT nextval('${tx.schema}.seq') AS s FROM generate_series(1, $1)`, [
      records.length + events.length,
    ]);
    let next = 0;
    const seqOf = () => Number(seqs[next++]?.s);
    const deltas = new Map<number, TopicDelta>();
    const m = { topic: [] as number[], at: [] as number[], seq: [] as number[], qos: [] as number[] };
    const m2 = {
      retain: [] as boolean[],
      size: [] as number[],
      payload: [] as Buffer[],
      props: [] as (string | null)[],
    };
    const brokers: string[] = [];
    const pts: Array<{ key: string; at: number; seq: number; value: number }> = [];
    const minutes = new Map<number, { records: number; bytes: number }>();
    const topicDays = new Map<string, number>();
    let replays = 0;
    for (const r of records) {
      const topicId = ids.get(r.topic) as number;
      const d = deltas.get(topicId);
      if (r.retain) {
        const last = d?.last ?? lastPayloads.get(topicId);
        if (last !== undefined && last.payload === r.payload && last.sizeBytes === r.sizeBytes) {
          replays++;
          continue;
        }
      }
      const seq = seqOf();
      const at = r.receivedAt;
      const props = r.properties === undefined ? null : JSON.stringify(r.properties);
      m.topic.push(topicId);
      m.at.push(at);
      m.seq.push(seq);
      m.qos.push(r.qos);
      m2.retain.push(r.retain);
      m2.size.push(r.sizeBytes);
      m2.payload.push(Buffer.from(r.payload, 'latin1'));
      m2.props.push(props);
      brokers.push(r.broker ?? this.broker);
      const fields = this.extract(r.topic, r.payload, this.maxFields);
      for (const f of fields) pts.push({ key: `${topicId}\u0000${f.field}`, at, seq, value: f.value });
      if (d === undefined) {
        deltas.set(topicId, {
          first: at,
          lastAt: at,
          lastSeq: seq,
          lastRetain: r.retain,
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
            lastRetain: r.retain,
            lastSize: r.sizeBytes,
            last: r,
          });
      }
      const minute = Math.floor(at / MINUTE) * MINUTE;
      const mm = minutes.get(minute) ?? { records: 0, bytes: 0 };
      mm.records++;
      mm.bytes += r.payload.length + (props?.length ?? 0) + RECORD_OVERHEAD + POINT_BYTES * fields.length;
      minutes.set(minute, mm);
      const td = `${dayOf(at)}:${topicId}`;
      topicDays.set(td, (topicDays.get(td) ?? 0) + 1);
    }
    if (m.at.length > 0) {
      await tx.query(
        `INSERT INTO ${tx.schema}.messages(topic_id, at, seq, qos, retain, size, payload, properties, broker)
         SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::smallint[], $5::boolean[],
           $6::integer[], $7::bytea[], $8::text[], $9::text[])`,
        [m.topic, m.at, m.seq, m.qos, m2.retain, m2.size, m2.payload, m2.props, brokers],
      );
    }
    if (pts.length > 0) await this.writePoints(tx, pts);
    await this.updateCounts(tx, deltas, minutes, topicDays);
    if (events.length > 0) {
      await tx.query(
        `INSERT INTO ${tx.schema}.link_events(at, seq, state) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[])`,
        [events.map((e) => e.at), events.map(() => seqOf()), events.map((e) => (e.state === 'up' ? 1 : 0))],
      );
    }
    return replays;
  }

  private async writePoints(
    tx: Pg,
    pts: Array<{ key: string; at: number; seq: number; value: number }>,
  ): Promise<void> {
    const series = await this.idsOf(
      pts.map((p) => p.key),
      this.seriesIds,
      async (keys) => {
        const topicIds = keys.map((k) => Number(k.slice(0, k.indexOf('\u0000'))));
        const fields = keys.map((k) => k.slice(k.indexOf('\u0000') + 1));
        await tx.query(
          `INSERT INTO ${tx.schema}.series(topic_id, field) SELECT * FROM unnest($1::integer[], $2::text[]) AS u(t, f)
           ORDER BY t, f ON CONFLICT (topic_id, field) DO NOTHING`,
          [topicIds, fields],
        );
        const rows = await tx.query(
          `SELECT s.id, s.topic_id, s.field FROM ${tx.schema}.series s
           JOIN unnest($1::integer[], $2::text[]) AS u(t, f) ON s.topic_id = u.t AND s.field = u.f`,
          [topicIds, fields],
        );
        return rows.map((r) => [`${Number(r.topic_id)}\u0000${r.field as string}`, Number(r.id)]);
      },
    );
    const rows = pts.map((p) => ({ id: series.get(p.key) as number, at: p.at, seq: p.seq, value: p.value }));
    await tx.query(
      `INSERT INTO ${tx.schema}.points(series_id, at, seq, value)
       SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::double precision[])`,
      [rows.map((r) => r.id), rows.map((r) => r.at), rows.map((r) => r.seq), rows.map((r) => r.value)],
    );
    // Per series and minute: count, sum, min, max, added to the rollups in (series, minute) order.
    const roll = new Map<
      string,
      { id: number; minute: number; n: number; sum: number; lo: number; hi: number }
    >();
    for (const r of rows) {
      const minute = Math.floor(r.at / MINUTE);
      const key = `${r.id}:${minute}`;
      const g = roll.get(key);
      if (g === undefined) roll.set(key, { id: r.id, minute, n: 1, sum: r.value, lo: r.value, hi: r.value });
      else {
        g.n++;
        g.sum += r.value;
        if (r.value < g.lo) g.lo = r.value;
        if (r.value > g.hi) g.hi = r.value;
      }
    }
    const groups = [...roll.values()].sort((a, b) => a.id - b.id || a.minute - b.minute);
    await tx.query(
      `INSERT INTO ${tx.schema}.rollups(series_id, minute, n, sum, lo, hi)
       SELECT * FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::double precision[], $5::double precision[], $6::double precision[])
       ON CONFLICT (series_id, minute) DO UPDATE SET n = rollups.n + excluded.n, sum = rollups.sum + excluded.sum,
         lo = least(rollups.lo, excluded.lo), hi = greatest(rollups.hi, excluded.hi)`,
      [
        groups.map((g) => g.id),
        groups.map((g) => g.minute),
        groups.map((g) => g.n),
        groups.map((g) => g.sum),
        groups.map((g) => g.lo),
        groups.map((g) => g.hi),
      ],
    );
  }

  private async updateCounts(
    tx: Pg,
    deltas: Map<number, TopicDelta>,
    minutes: Map<number, { records: number; bytes: number }>,
    topicDays: Map<string, number>,
  ): Promise<void> {
    if (deltas.size > 0) {
      const d = [...deltas.entries()].sort((a, b) => a[0] - b[0]);
      await tx.query(
        `UPDATE ${tx.schema}.topics t SET first_at = least(t.first_at, u.first), records = t.records + u.added,
           last_seq = CASE WHEN u.last_at >= t.last_at THEN u.last_seq ELSE t.last_seq END,
           last_retain = CASE WHEN u.last_at >= t.last_at THEN u.last_retain ELSE t.last_retain END,
           last_size = CASE WHEN u.last_at >= t.last_at THEN u.last_size ELSE t.last_size END,
           last_at = greatest(t.last_at, u.last_at)
         FROM unnest($1::integer[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[], $6::integer[], $7::bigint[])
           AS u(id, first, last_at, last_seq, last_retain, last_size, added)
         WHERE t.id = u.id`,
        [
          d.map(([id]) => id),
          d.map(([, x]) => x.first),
          d.map(([, x]) => x.lastAt),
          d.map(([, x]) => x.lastSeq),
          d.map(([, x]) => x.lastRetain),
          d.map(([, x]) => x.lastSize),
          d.map(([, x]) => x.added),
        ],
      );
    }
    if (topicDays.size > 0) {
      const td = [...topicDays.entries()]
        .map(([k, n]) => {
          const i = k.indexOf(':');
          return { day: Number(k.slice(0, i)), id: Number(k.slice(i + 1)), n };
        })
        .sort((a, b) => a.day - b.day || a.id - b.id);
      await tx.query(
        `INSERT INTO ${tx.schema}.topic_days(day, topic_id, records) SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[])
         ON CONFLICT (day, topic_id) DO UPDATE SET records = topic_days.records + excluded.records`,
        [td.map((x) => x.day), td.map((x) => x.id), td.map((x) => x.n)],
      );
    }
    if (minutes.size > 0) {
      const ms = [...minutes.entries()].sort((a, b) => a[0] - b[0]);
      await tx.query(
        `INSERT INTO ${tx.schema}.minutes(minute, records, bytes) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
         ON CONFLICT (minute) DO UPDATE SET records = minutes.records + excluded.records, bytes = minutes.bytes + excluded.bytes`,
        [ms.map(([k]) => k), ms.map(([, v]) => v.records), ms.map(([, v]) => v.bytes)],
      );
    }
  }

  /** The last recorded record of each topic a retained record of this batch may replay. */
  private async lastPayloads(
    tx: Pg,
    records: readonly HistoryRecord[],
    ids: Map<string, number>,
  ): Promise<Map<number, { payload: string; sizeBytes: number }>> {
    const out = new Map<number, { payload: string; sizeBytes: number }>();
    const want = [...new Set(records.filter((r) => r.retain).map((r) => ids.get(r.topic) as number))];
    if (want.length === 0) return out;
    const rows = await tx.query(
      `SELECT t.id, m.size, m.payload FROM ${tx.schema}.topics t JOIN ${tx.schema}.messages m
         ON m.topic_id = t.id AND m.at = t.last_at AND m.seq = t.last_seq WHERE t.id = ANY($1::integer[])`,
      [want],
    );
    for (const r of rows)
      out.set(Number(r.id), { payload: (r.payload as Buffer).toString('latin1'), sizeBytes: Number(r.size) });
    return out;
  }

  /** Ids for names, from the cache or created (sorted, so concurrent writers lock in one order). */
  private async idsOf(
    names: readonly string[],
    cache: Map<string, number>,
    create: (missing: string[]) => Promise<Array<[string, number]>>,
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const missing = new Set<string>();
    for (const n of names) {
      const id = cache.get(n);
      if (id === undefined) missing.add(n);
      else out.set(n, id);
    }
    if (missing.size > 0) {
      const created = await create([...missing].sort());
      if (cache.size + created.length > CACHE_LIMIT) cache.clear();
      for (const [n, id] of created) {
        cache.set(n, id);
        out.set(n, id);
      }
    }
    return out;
  }
}
