/**
 * The read half of the PostgreSQL history. Topics under a filter come from the topics table by
 * the filter's literal prefix (a range on its "C"-collated unique index, byte order), each name
 * then matched exactly and against the read policy, as in sqlite-read.ts. Each read is then one
 * or two queries for all those topics at once (unnest of their ids, a LATERAL index scan per
 * topic or series), not a query per topic: over a network a round trip costs more than a row.
 */
import { topicMatches } from '../mqtt/topic.js';
import type { TopicPolicy } from '../policy/acl.js';
import { bucketStart, combineBuckets, medianGap, type BucketAggregate } from './numeric.js';
import type { Pg, Row } from './postgres.js';
import { literalPrefix, prefixSuccessor } from './sqlite-read.js';
import type {
  LatestResult,
  OfflinePeriod,
  RangeQuery,
  RangeResult,
  RecordedMessage,
  RecordedTopic,
  Series,
  SilenceQuery,
  SilenceResult,
  SilentTopic,
  SummaryQuery,
  SummaryResult,
  TopicsResult,
} from './types.js';

interface TopicRow {
  id: number;
  topic: string;
  firstAt: number;
  lastAt: number;
  lastSeq: number;
  lastRetain: boolean;
  lastSize: number;
  records: number;
}

const SILENCE_SAMPLE = 64;
const MINUTE = 60_000;
const COLUMNS = 'm.topic_id, m.at, m.seq, m.qos, m.retain, m.size, m.payload, m.properties, m.broker';

export class PgReader {
  constructor(
    private readonly db: Pg,
    private readonly policy: TopicPolicy,
  ) {}

  /** Readable recorded topics under the filter, in name order. */
  async matching(filter: string): Promise<TopicRow[]> {
    const prefix = literalPrefix(filter);
    const upper = prefixSuccessor(prefix);
    const cols = 'id, topic, first_at, last_at, last_seq, last_retain, last_size, records';
    const rows =
      upper === undefined
        ? await this.db.query(
            `SELECT ${cols} FROM ${this.db.schema}.topics WHERE topic >= $1 ORDER BY topic`,
            [prefix],
          )
        : await this.db.query(
            `SELECT ${cols} FROM ${this.db.schema}.topics WHERE topic >= $1 AND topic < $2 ORDER BY topic`,
            [prefix, upper],
          );
    const out: TopicRow[] = [];
    for (const r of rows) {
      const topic = r.topic as string;
      if (!topicMatches(filter, topic) || !this.policy.canRead(topic)) continue;
      out.push({
        id: Number(r.id),
        topic,
        firstAt: Number(r.first_at),
        lastAt: Number(r.last_at),
        lastSeq: Number(r.last_seq),
        lastRetain: r.last_retain === true,
        lastSize: Number(r.last_size),
        records: Number(r.records),
      });
    }
    return out;
  }

  async range(q: RangeQuery): Promise<RangeResult> {
    const from = q.from ?? -Number.MAX_SAFE_INTEGER;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const want = q.limit + 1;
    const topics = (await this.matching(q.filter)).filter((t) => t.lastAt >= from && t.firstAt < to);
    if (topics.length === 0) return { messages: [], more: false };
    const names = new Map(topics.map((t) => [t.id, t.topic]));
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM unnest($1::integer[]) AS t(id) CROSS JOIN LATERAL (
         SELECT * FROM ${this.db.schema}.messages m WHERE m.topic_id = t.id AND m.at >= $2 AND m.at < $3
         ORDER BY m.at DESC, m.seq DESC LIMIT $4) m
       ORDER BY m.at DESC, m.seq DESC LIMIT $4`,
      [topics.map((t) => t.id), from, to, want],
    );
    return {
      messages: rows.slice(0, q.limit).map((r) => toMessage(names.get(Number(r.topic_id)) as string, r)),
      more: rows.length > q.limit,
    };
  }

  async latest(filter: string, limit: number): Promise<LatestResult> {
    const topics = await this.matching(filter);
    topics.sort((a, b) => b.lastAt - a.lastAt || b.lastSeq - a.lastSeq);
    const chosen = topics.slice(0, limit);
    if (chosen.length === 0) return { messages: [], matched: topics.length };
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM unnest($1::integer[], $2::bigint[], $3::bigint[]) AS u(id, at, seq)
       JOIN ${this.db.schema}.messages m ON m.topic_id = u.id AND m.at = u.at AND m.seq = u.seq`,
      [chosen.map((t) => t.id), chosen.map((t) => t.lastAt), chosen.map((t) => t.lastSeq)],
    );
    const byId = new Map(rows.map((r) => [Number(r.topic_id), r]));
    const messages: RecordedMessage[] = [];
    for (const t of chosen) {
      const r = byId.get(t.id);
      if (r !== undefined) messages.push(toMessage(t.topic, r));
    }
    return { messages, matched: topics.length };
  }

  async topics(filter: string, limit: number): Promise<TopicsResult> {
    const all = await this.matching(filter);
    const topics: RecordedTopic[] = all.slice(0, limit).map((t) => ({
      topic: t.topic,
      records: t.records,
      firstAt: t.firstAt,
      lastAt: t.lastAt,
      lastRetain: t.lastRetain,
      lastSizeBytes: t.lastSize,
    }));
    return { topics, matched: all.length };
  }

  async summarize(q: SummaryQuery): Promise<SummaryResult> {
    const { from, to, buckets } = q;
    const topics = (await this.matching(q.filter)).filter((t) => t.lastAt >= from && t.firstAt < to);
    if (topics.length === 0) return { series: [], more: false };
    const names = new Map(topics.map((t) => [t.id, t.topic]));
    const fieldClause = q.field === undefined ? '' : 'AND s.field = $4';
    // Every series of those topics with its first and last point in the range (none: no row).
    const found = await this.db.query(
      `SELECT s.id, s.topic_id, s.field, f.at AS fa, f.value AS fv, l.at AS la, l.value AS lv
       FROM ${this.db.schema}.series s
       CROSS JOIN LATERAL (SELECT at, value FROM ${this.db.schema}.points p WHERE p.series_id = s.id AND p.at >= $2 AND p.at < $3
         ORDER BY p.at, p.seq LIMIT 1) f
       CROSS JOIN LATERAL (SELECT at, value FROM ${this.db.schema}.points p WHERE p.series_id = s.id AND p.at >= $2 AND p.at < $3
         ORDER BY p.at DESC, p.seq DESC LIMIT 1) l
       WHERE s.topic_id = ANY($1::integer[]) ${fieldClause}`,
      q.field === undefined
        ? [topics.map((t) => t.id), from, to]
        : [topics.map((t) => t.id), from, to, q.field],
    );
    const order = new Map(topics.map((t, i) => [t.id, i]));
    found.sort(
      (a, b) =>
        (order.get(Number(a.topic_id)) as number) - (order.get(Number(b.topic_id)) as number) ||
        ((a.field as string) < (b.field as string) ? -1 : (a.field as string) > (b.field as string) ? 1 : 0),
    );
    const more = found.length > q.maxSeries;
    const chosen = found.slice(0, q.maxSeries);
    if (chosen.length === 0) return { series: [], more: false };
    const aggregates = await this.buckets(
      chosen.map((s) => Number(s.id)),
      from,
      to,
      buckets,
    );
    const series: Series[] = chosen.map((s) => ({
      topic: names.get(Number(s.topic_id)) as string,
      field: s.field as string,
      ...combineBuckets(
        aggregates.get(Number(s.id)) ?? [],
        from,
        to,
        { at: Number(s.fa), value: Number(s.fv) },
        { at: Number(s.la), value: Number(s.lv) },
      ),
    }));
    return { series, more };
  }

  /**
   * Per series and bucket: count, min, max, sum. A bucket is its whole minutes (rollups) plus the
   * points at its two edges; all pieces of all series in one query.
   */
  private async buckets(
    ids: number[],
    from: number,
    to: number,
    n: number,
  ): Promise<Map<number, (BucketAggregate | undefined)[]>> {
    const piece = { i: [] as number[], kind: [] as number[], lo: [] as number[], hi: [] as number[] };
    const add = (i: number, kind: number, lo: number, hi: number) => {
      if (lo >= hi) return;
      piece.i.push(i);
      piece.kind.push(kind);
      piece.lo.push(lo);
      piece.hi.push(hi);
    };
    for (let i = 0; i < n; i++) {
      const start = bucketStart(i, from, to, n);
      const end = i + 1 === n ? to : bucketStart(i + 1, from, to, n);
      const m0 = Math.ceil(start / MINUTE);
      const m1 = Math.floor(end / MINUTE);
      if (m0 < m1) {
        add(i, 0, start, m0 * MINUTE);
        add(i, 1, m0, m1);
        add(i, 0, m1 * MINUTE, end);
      } else add(i, 0, start, end);
    }
    const rows = await this.db.query(
      `WITH pc AS (SELECT * FROM unnest($2::integer[], $3::integer[], $4::bigint[], $5::bigint[]) AS p(i, kind, lo, hi)),
            ids AS (SELECT unnest($1::integer[]) AS id)
       SELECT ids.id, pc.i, a.n, a.lo, a.hi, a.sum FROM ids CROSS JOIN pc CROSS JOIN LATERAL (
         SELECT count(*) AS n, min(value) AS lo, max(value) AS hi, sum(value) AS sum FROM ${this.db.schema}.points p
           WHERE pc.kind = 0 AND p.series_id = ids.id AND p.at >= pc.lo AND p.at < pc.hi
         UNION ALL
         SELECT coalesce(sum(r.n), 0), min(r.lo), max(r.hi), sum(r.sum) FROM ${this.db.schema}.rollups r
           WHERE pc.kind = 1 AND r.series_id = ids.id AND r.minute >= pc.lo AND r.minute < pc.hi) a
       WHERE a.n > 0`,
      [ids, piece.i, piece.kind, piece.lo, piece.hi],
    );
    const out = new Map<number, (BucketAggregate | undefined)[]>();
    for (const id of ids) out.set(id, new Array<BucketAggregate | undefined>(n));
    for (const r of rows) {
      const list = out.get(Number(r.id)) as (BucketAggregate | undefined)[];
      const i = Number(r.i);
      const part = { count: Number(r.n), min: Number(r.lo), max: Number(r.hi), sum: Number(r.sum) };
      const was = list[i];
      list[i] =
        was === undefined
          ? part
          : {
              count: was.count + part.count,
              min: Math.min(was.min, part.min),
              max: Math.max(was.max, part.max),
              sum: was.sum + part.sum,
            };
    }
    return out;
  }

  async silent(q: SilenceQuery): Promise<SilenceResult> {
    const topics = await this.matching(q.filter);
    const candidates = topics.filter((t) => {
      const silentMs = q.now - t.lastAt;
      return q.silentMs !== undefined ? silentMs > q.silentMs : silentMs > q.floorMs;
    });
    const times = new Map<number, number[]>();
    if (candidates.length > 0) {
      const rows = await this.db.query(
        `SELECT t.id, array(SELECT m.at::double precision FROM ${this.db.schema}.messages m WHERE m.topic_id = t.id
           ORDER BY m.at DESC LIMIT $2) AS times FROM unnest($1::integer[]) AS t(id)`,
        [candidates.map((t) => t.id), SILENCE_SAMPLE + 1],
      );
      for (const r of rows) times.set(Number(r.id), r.times as number[]);
    }
    const found: SilentTopic[] = [];
    for (const t of candidates) {
      const silentMs = q.now - t.lastAt;
      const usual = medianGap(times.get(t.id) ?? []);
      const thresholdMs = q.silentMs ?? Math.max(q.floorMs, usual === undefined ? 0 : usual * q.factor);
      if (silentMs <= thresholdMs) continue;
      found.push({
        topic: t.topic,
        lastAt: t.lastAt,
        silentMs,
        usualIntervalMs: usual,
        thresholdMs,
        records: t.records,
      });
    }
    found.sort((a, b) => b.silentMs - a.silentMs || (a.topic < b.topic ? -1 : 1));
    return { silent: found.slice(0, q.limit), examined: topics.length, more: found.length > q.limit };
  }

  async offline(from: number, to: number): Promise<OfflinePeriod[]> {
    const [before] = await this.db.query(
      `SELECT at, state FROM ${this.db.schema}.link_events WHERE at < $1 ORDER BY at DESC, seq DESC LIMIT 1`,
      [from],
    );
    let downSince = before !== undefined && Number(before.state) === 0 ? Number(before.at) : undefined;
    const out: OfflinePeriod[] = [];
    const events = await this.db.query(
      `SELECT at, state FROM ${this.db.schema}.link_events WHERE at >= $1 AND at < $2 ORDER BY at, seq`,
      [from, to],
    );
    for (const e of events) {
      const at = Number(e.at);
      if (Number(e.state) === 0) downSince ??= at;
      else if (downSince !== undefined) {
        if (at > from) out.push({ from: downSince, to: at });
        downSince = undefined;
      }
    }
    if (downSince !== undefined) {
      const [up] = await this.db.query(
        `SELECT at FROM ${this.db.schema}.link_events WHERE at >= $1 AND state = 1 ORDER BY at, seq LIMIT 1`,
        [to],
      );
      out.push(up === undefined ? { from: downSince } : { from: downSince, to: Number(up.at) });
    }
    return out;
  }
}

function toMessage(topic: string, row: Row): RecordedMessage {
  const payload = (row.payload as Buffer).toString('latin1');
  const sizeBytes = Number(row.size);
  const props = row.properties;
  const broker = row.broker as string;
  return {
    topic,
    payload,
    sizeBytes,
    qos: Number(row.qos) as 0 | 1 | 2,
    retain: row.retain === true,
    receivedAt: Number(row.at),
    ...(typeof props === 'string' ? { properties: JSON.parse(props) as RecordedMessage['properties'] } : {}),
    ...(broker !== 'default' ? { broker } : {}),
    truncated: sizeBytes > payload.length,
  };
}
