/**
 * Reads that reach past memory: the record on disk (history/) joined with what memory holds and
 * is not written yet (the last flush interval). Memory answers alone when history is off, or when
 * it holds the whole window asked for; every result says which source answered.
 */
import { BridgeError } from '../errors.js';
import { fromRecord } from '../history/recorded.js';
import { HistoryFault, type RecordedTopic } from '../history/types.js';
import { compareTopics } from '../store/message-store.js';
import type { StoredMessage, TopicInfo } from '../store/types.js';
import type { ToolDeps } from './deps.js';

export type Source = 'memory' | 'history';

export interface RangeRead {
  readonly messages: StoredMessage[];
  /** More matched than the limit. */
  readonly more: boolean;
  readonly source: Source;
  /** Receive time of the oldest record history holds (history reads; undefined when empty). */
  readonly historySince?: number | undefined;
}

/**
 * Messages of the filter in [since, until), newest first, at most limit (more: there were more).
 * From memory when it holds everything since `since` (`memorySince`), else from history joined
 * with the messages memory holds that are not written yet.
 */
export async function readRange(
  deps: ToolDeps,
  filter: string,
  window: {
    since: number | undefined;
    until: number | undefined;
    limit: number;
    now: number;
    memorySince: number;
  },
): Promise<RangeRead> {
  const { since, until, limit, now } = window;
  const inWindow = (m: StoredMessage) => until === undefined || m.receivedAt < until;
  const fromMemory = (extra: number) =>
    deps.store
      .query(filter, { limit: limit + 1 + extra, now, ...(since !== undefined ? { since } : {}) })
      .filter(inWindow);
  const history = deps.history;
  if (history === undefined || (since !== undefined && since >= window.memorySince && until === undefined)) {
    const found = fromMemory(0);
    return { messages: found.slice(0, limit), more: found.length > limit, source: 'memory' };
  }
  const written = history.recorder.writtenSeq;
  const unwritten = deps.store
    .query(filter, { limit: limit + 1, now, ...(since !== undefined ? { since } : {}) })
    // Not written yet, or of a topic history does not record: memory is its only source.
    .filter((m) => (m.seq > written || !history.recorder.records(m.topic)) && inWindow(m));
  const [recorded, stats] = await Promise.all([
    history.backend.range({ filter, from: since, to: until, limit: limit + 1 }),
    history.backend.stats(),
  ]).catch(unavailable);
  const all = mergeNewest(unwritten, recorded.messages.map(fromRecord));
  return {
    messages: all.slice(0, limit),
    more: recorded.more || all.length > limit,
    source: 'history',
    historySince: stats.oldestAt,
  };
}

/** A history that cannot be read now (HistoryFault: its database down or slow), in its own words. */
function unavailable(error: unknown): never {
  if (error instanceof HistoryFault)
    throw new BridgeError(
      'BUSY',
      `history cannot be read now: ${error.message}. Messages in memory: ask for the last minutes`,
    );
  throw error;
}

/** Two newest-first lists merged, newest first. */
function mergeNewest(a: readonly StoredMessage[], b: readonly StoredMessage[]): StoredMessage[] {
  const out: StoredMessage[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x.receivedAt >= y.receivedAt)) {
      out.push(x as StoredMessage);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

/**
 * The last message of each matching topic, newest first, from memory and history together (after
 * a restart, memory knows only what arrived since).
 */
export async function latestOfEach(
  deps: ToolDeps,
  filter: string,
  limit: number,
  now: number,
): Promise<{ messages: StoredMessage[]; matched: number }> {
  const memory = deps.store.latest(filter, { limit, now });
  const history = deps.history;
  if (history === undefined) return memory;
  // History out of reach (a database down): the last values memory holds still answer.
  const recorded = await history.backend.latest(filter, limit).catch(() => ({ messages: [], matched: 0 }));
  const byTopic = new Map<string, StoredMessage>();
  for (const m of memory.messages) byTopic.set(m.topic, m);
  for (const r of recorded.messages) {
    const held = byTopic.get(r.topic);
    if (held === undefined || held.receivedAt < r.receivedAt) {
      byTopic.set(r.topic, fromRecord(r));
    }
  }
  const messages = [...byTopic.values()].sort((a, b) => b.receivedAt - a.receivedAt).slice(0, limit);
  // When neither list was cut, the union is exact; else at least the larger count.
  const exact = memory.matched <= memory.messages.length && recorded.matched <= recorded.messages.length;
  const matched = exact ? byTopic.size : Math.max(recorded.matched, memory.matched, byTopic.size);
  return { messages, matched };
}

/** A topic as listed: memory's counts joined with history's record. */
export interface ListedTopic extends TopicInfo {
  /** Records of the topic on disk (history on). */
  readonly recorded?: number;
  readonly firstRecordedAt?: number;
}

export async function listTopics(
  deps: ToolDeps,
  filters: readonly string[],
  limit: number,
  now: number,
): Promise<{ topics: ListedTopic[]; matched: number }> {
  const memory = deps.store.topics(filters, { limit, now });
  const history = deps.history;
  if (history === undefined) return memory;
  const byTopic = new Map<string, ListedTopic>();
  for (const t of memory.topics) byTopic.set(t.topic, t);
  let matchedOnDisk = 0;
  for (const filter of filters) {
    const found = await history.backend.topics(filter, limit).catch(() => ({ topics: [], matched: 0 }));
    matchedOnDisk += found.matched;
    for (const r of found.topics) byTopic.set(r.topic, joinTopic(byTopic.get(r.topic), r));
  }
  const topics = [...byTopic.values()].sort((a, b) => compareTopics(a.topic, b.topic)).slice(0, limit);
  return { topics, matched: Math.max(memory.matched, matchedOnDisk, byTopic.size) };
}

function joinTopic(held: TopicInfo | undefined, r: RecordedTopic): ListedTopic {
  const newer = held !== undefined && held.lastReceivedAt >= r.lastAt;
  return {
    topic: r.topic,
    received: held?.received ?? 0,
    stored: held?.stored ?? 0,
    lastReceivedAt: newer ? held.lastReceivedAt : r.lastAt,
    lastRetain: newer ? held.lastRetain : r.lastRetain,
    lastSizeBytes: newer ? held.lastSizeBytes : r.lastSizeBytes,
    recorded: r.records,
    firstRecordedAt: r.firstAt,
  };
}
