/**
 * The read half of the SQLite history, in the worker thread over the Sql interface of sqlite.ts.
 *
 * Topics under a filter: the literal prefix before the first wildcard is a range on the
 * topics.topic index ([prefix, successor(prefix)) in code point order, which is UTF-8 byte order),
 * iterated row by row; each name is then matched exactly (topicMatches) and against the read
 * policy, so a record made under a wider policy is never returned.
 */
import { bucketAggregate } from './sqlite-rollups.js';
import { topicMatches } from '../mqtt/topic.js';
import type { TopicPolicy } from '../policy/acl.js';
import { bucketStart, combineBuckets, medianGap, type BucketAggregate } from './numeric.js';
import { MESSAGE_COLUMNS, type Sql } from './sqlite.js';
import type {
  LatestResult,
  OfflinePeriod,
  RangeQuery,
  RangeResult,
  RecordedMessage,
  RecordedTopic,
  SilenceQuery,
  SilenceResult,
  SilentTopic,
  SummaryQuery,
  SummaryResult,
  Series,
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

/** Median gap over this many of a topic's newest records. */
const SILENCE_SAMPLE = 64;

/** The smallest string greater than every string that starts with `prefix`; undefined for ''. */
export function prefixSuccessor(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const cp = (cps.pop() as string).codePointAt(0) as number;
    if (cp < 0x10ffff) {
      const next = cp + 1 === 0xd800 ? 0xe000 : cp + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export function literalPrefix(filter: string): string {
  const i = filter.search(/[+#]/);
  if (i < 0) return filter;
  // `a/b/#` also matches `a/b` itself: the prefix stops before the separator.
  return filter.slice(0, i > 0 && filter[i - 1] === '/' ? i - 1 : i);
}

export class SqliteReader {
  private readonly policy: TopicPolicy;

  constructor(
    private readonly sql: Sql,
    policy: TopicPolicy,
  ) {
    this.policy = policy;
  }

  /** Readable recorded topics under the filter, in name order, one row at a time. */
  *matching(filter: string): Generator<TopicRow> {
    const prefix = literalPrefix(filter);
    const upper = prefixSuccessor(prefix);
    const cols = 'id, topic, first_at, last_at, last_seq, last_retain, last_size, records';
    const rows =
      upper === undefined
        ? this.sql.iterate(`SELECT ${cols} FROM topics WHERE topic >= ? ORDER BY topic`, prefix)
        : this.sql.iterate(
            `SELECT ${cols} FROM topics WHERE topic >= ? AND topic < ? ORDER BY topic`,
            prefix,
            upper,
          );
    for (const r of rows) {
      const topic = r.topic as string;
      if (!topicMatches(filter, topic) || !this.policy.canRead(topic)) continue;
      yield {
        id: Number(r.id),
        topic,
        firstAt: Number(r.first_at),
        lastAt: Number(r.last_at),
        lastSeq: Number(r.last_seq),
        lastRetain: Number(r.last_retain) === 1,
        lastSize: Number(r.last_size),
        records: Number(r.records),
      };
    }
  }

  range(q: RangeQuery): RangeResult {
    const from = q.from ?? -Number.MAX_SAFE_INTEGER;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const want = q.limit + 1;
    const topics = [...this.matching(q.filter)].filter((t) => t.lastAt >= from && t.firstAt < to);
    topics.sort((a, b) => b.lastAt - a.lastAt);
    let best: Array<{ at: number; seq: number; row: Record<string, unknown>; topic: string }> = [];
    for (const t of topics) {
      // Only records newer than the want-th newest so far can still make the cut.
      const floor = best.length >= want ? (best[want - 1] as { at: number; seq: number }) : undefined;
      if (floor !== undefined && t.lastAt < floor.at) continue;
      const rows =
        floor === undefined
          ? this.sql.all(
              `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE topic_id = ? AND at >= ? AND at < ? ORDER BY at DESC, seq DESC LIMIT ?`,
              t.id,
              from,
              to,
              want,
            )
          : this.sql.all(
              `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE topic_id = ? AND at >= ? AND at < ? AND (at, seq) > (?, ?) ORDER BY at DESC, seq DESC LIMIT ?`,
              t.id,
              from,
              to,
              floor.at,
              floor.seq,
              want,
            );
      for (const row of rows) best.push({ at: Number(row.at), seq: Number(row.seq), row, topic: t.topic });
      best.sort((a, b) => b.at - a.at || b.seq - a.seq);
      if (best.length > want) best = best.slice(0, want);
    }
    return {
      messages: best.slice(0, q.limit).map((b) => toMessage(b.topic, b.row)),
      more: best.length > q.limit,
    };
  }

  latest(filter: string, limit: number): LatestResult {
    const topics = [...this.matching(filter)];
    topics.sort((a, b) => b.lastAt - a.lastAt || b.lastSeq - a.lastSeq);
    const messages: RecordedMessage[] = [];
    for (const t of topics.slice(0, limit)) {
      const row = this.sql.get(
        `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE topic_id = ? AND at = ? AND seq = ?`,
        t.id,
        t.lastAt,
        t.lastSeq,
      );
      if (row !== undefined) messages.push(toMessage(t.topic, row));
    }
    return { messages, matched: topics.length };
  }

  topics(filter: string, limit: number): TopicsResult {
    const out: RecordedTopic[] = [];
    let matched = 0;
    for (const t of this.matching(filter)) {
      matched++;
      if (out.length < limit) {
        out.push({
          topic: t.topic,
          records: t.records,
          firstAt: t.firstAt,
          lastAt: t.lastAt,
          lastRetain: t.lastRetain,
          lastSizeBytes: t.lastSize,
        });
      }
    }
    return { topics: out, matched };
  }

  summarize(q: SummaryQuery): SummaryResult {
    const series: Series[] = [];
    const { from, to, buckets } = q;
    for (const t of this.matching(q.filter)) {
      if (t.lastAt < from || t.firstAt >= to) continue;
      const fields =
        q.field === undefined
          ? this.sql.all('SELECT id, field FROM series WHERE topic_id = ? ORDER BY field', t.id)
          : this.sql.all('SELECT id, field FROM series WHERE topic_id = ? AND field = ?', t.id, q.field);
      for (const f of fields) {
        const id = Number(f.id);
        const first = this.sql.get(
          'SELECT at, value FROM points WHERE series_id = ? AND at >= ? AND at < ? ORDER BY at, seq LIMIT 1',
          id,
          from,
          to,
        );
        if (first === undefined) continue;
        if (series.length >= q.maxSeries) return { series, more: true };
        const last = this.sql.get(
          'SELECT at, value FROM points WHERE series_id = ? AND at >= ? AND at < ? ORDER BY at DESC, seq DESC LIMIT 1',
          id,
          from,
          to,
        ) as Record<string, unknown>;
        const aggregates: (BucketAggregate | undefined)[] = new Array<BucketAggregate | undefined>(buckets);
        // Per bucket: the rollups of the whole minutes inside it, and range scans of the points at
        // its two edges, over the (series_id, ...) keys. Bucket bounds are numeric.ts bucketStart,
        // the same integer arithmetic.
        for (let i = 0; i < buckets; i++) {
          const start = bucketStart(i, from, to, buckets);
          const end = i + 1 === buckets ? to : bucketStart(i + 1, from, to, buckets);
          aggregates[i] = bucketAggregate(this.sql, id, start, end);
        }
        const point = (r: Record<string, unknown>) => ({ at: Number(r.at), value: Number(r.value) });
        series.push({
          topic: t.topic,
          field: f.field as string,
          ...combineBuckets(aggregates, from, to, point(first), point(last)),
        });
      }
    }
    return { series, more: false };
  }

  silent(q: SilenceQuery): SilenceResult {
    const found: SilentTopic[] = [];
    let examined = 0;
    for (const t of this.matching(q.filter)) {
      examined++;
      const silentMs = q.now - t.lastAt;
      if (q.silentMs !== undefined ? silentMs <= q.silentMs : silentMs <= q.floorMs) continue;
      const times = this.sql
        .all('SELECT at FROM messages WHERE topic_id = ? ORDER BY at DESC LIMIT ?', t.id, SILENCE_SAMPLE + 1)
        .map((r) => Number(r.at));
      const usual = medianGap(times);
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
    return { silent: found.slice(0, q.limit), examined, more: found.length > q.limit };
  }

  offline(from: number, to: number): OfflinePeriod[] {
    const before = this.sql.get(
      'SELECT at, state FROM link_events WHERE at < ? ORDER BY at DESC, seq DESC LIMIT 1',
      from,
    );
    let downSince = before !== undefined && Number(before.state) === 0 ? Number(before.at) : undefined;
    const out: OfflinePeriod[] = [];
    for (const e of this.sql.iterate(
      'SELECT at, state FROM link_events WHERE at >= ? AND at < ? ORDER BY at, seq',
      from,
      to,
    )) {
      const at = Number(e.at);
      if (Number(e.state) === 0) downSince ??= at;
      else if (downSince !== undefined) {
        if (at > from) out.push({ from: downSince, to: at });
        downSince = undefined;
      }
    }
    if (downSince !== undefined) {
      const up = this.sql.get(
        'SELECT at FROM link_events WHERE at >= ? AND state = 1 ORDER BY at, seq LIMIT 1',
        to,
      );
      out.push(up === undefined ? { from: downSince } : { from: downSince, to: Number(up.at) });
    }
    return out;
  }
}

function toMessage(topic: string, row: Record<string, unknown>): RecordedMessage {
  const bytes = row.payload as Uint8Array;
  const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const flags = Number(row.flags);
  const sizeBytes = Number(row.size);
  const props = row.properties;
  return {
    topic,
    payload,
    sizeBytes,
    qos: (flags & 3) as 0 | 1 | 2,
    retain: (flags & 4) !== 0,
    receivedAt: Number(row.at),
    ...(typeof props === 'string' ? { properties: JSON.parse(props) as RecordedMessage['properties'] } : {}),
    truncated: sizeBytes > payload.length,
  };
}
