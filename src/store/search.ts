/**
 * How the store finds messages: a newest-first scan of the receive-order list for broad
 * `prefix/#` filters when that beats visiting every matching topic (with a step budget, so a
 * skewed store falls back instead of getting slow), else a walk of the matching topics in the
 * trie with a k-way merge of their lists.
 */
import { MinHeap, firstK, newestFirst } from './heap.js';
import type { Entry, Msg } from './nodes.js';
import type { TopicIndex } from './topic-index.js';
import type { StoredMessage } from './types.js';

export interface BroadScan {
  readonly matches: (topic: string) => boolean;
  /** Steps after which the scan gives up (the caller merges instead). */
  readonly budget: number;
}

/**
 * For a `prefix/#` filter whose topics are many enough that walking the receive-order list back
 * from the newest message finds `limit` of theirs sooner than visiting every one of them: the
 * topic test and the step budget. Undefined when the scan does not pay.
 */
export function broadScan(index: TopicIndex<Entry>, filter: string, limit: number): BroadScan | undefined {
  if (!filter.endsWith('#') || filter.includes('+')) return undefined;
  const root = filter === '#';
  const prefix = root ? '' : filter.slice(0, -2);
  const under = index.countUnder(root ? [] : prefix.split('/'));
  const topics = index.size;
  // With a share s = under / topics of the topics matching, about limit / s messages are
  // enough; a merge visits all `under` topics. Scan when that is the cheaper of the two.
  const expected = Math.ceil((limit * topics) / Math.max(under, 1));
  if (under === 0 || expected >= under) return undefined;
  const matches = root
    ? (topic: string) => !topic.startsWith('$')
    : (topic: string) =>
        topic === prefix || (topic.startsWith(prefix) && topic.charCodeAt(prefix.length) === 47);
  return { matches, budget: expected * 8 + 256 };
}

/** Matching messages back from `newest`, down to `since`; undefined when the budget runs out. */
export function scanNewest(
  newest: Msg | undefined,
  scan: BroadScan,
  limit: number,
  since: number,
): StoredMessage[] | undefined {
  let budget = scan.budget;
  const out: StoredMessage[] = [];
  for (let m = newest; m !== undefined && out.length < limit; m = m.gPrev) {
    if (m.receivedAt < since) break;
    if (scan.matches(m.entry.topic)) out.push(m);
    if (--budget === 0) return undefined;
  }
  return out;
}

/**
 * Last-known values back from `newest`: the messages that are still their topic's newest.
 * Undefined when the budget runs out.
 */
export function scanLastKnown(
  newest: Msg | undefined,
  scan: BroadScan,
  limit: number,
): StoredMessage[] | undefined {
  let budget = scan.budget;
  const out: StoredMessage[] = [];
  for (let m = newest; m !== undefined && out.length < limit; m = m.gPrev) {
    if (m.entry.tail === m && scan.matches(m.entry.topic)) out.push(m);
    if (--budget === 0) return undefined;
  }
  return out;
}

/** The matching topics' lists merged newest first (k-way, by a heap): O(matching topics). */
export function mergeNewest(
  index: TopicIndex<Entry>,
  filter: string,
  limit: number,
  since: number,
): StoredMessage[] {
  const tails: Msg[] = [];
  index.match(filter, (entry) => {
    if (entry.tail !== undefined && entry.tail.receivedAt >= since) tails.push(entry.tail);
  });
  const heap = new MinHeap<Msg>(newestFirst, tails);
  const out: StoredMessage[] = [];
  for (let top = heap.peek(); top !== undefined && out.length < limit; top = heap.peek()) {
    out.push(top);
    const next = top.tPrev;
    if (next !== undefined && next.receivedAt >= since) heap.replaceTop(next);
    else heap.pop();
  }
  return out;
}

/** The newest message of every matching topic, the first `limit` newest first, and their count. */
export function latestOfEach(
  index: TopicIndex<Entry>,
  filter: string,
  limit: number,
): { messages: StoredMessage[]; matched: number } {
  const all: Msg[] = [];
  index.match(filter, (entry) => {
    if (entry.tail !== undefined) all.push(entry.tail);
  });
  const matched = all.length; // before firstK, which may shorten the array
  return { messages: firstK(all, limit, newestFirst), matched };
}

/** Tree order: compare level by level, each level by name. */
export function compareTopics(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}
