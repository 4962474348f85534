/**
 * How the store finds messages: a newest-first scan of the receive-order list for broad
 * `prefix/#` filters when that beats visiting every matching topic (with a step budget, so a
 * skewed store falls back instead of getting slow), else a walk of the matching topics in the
 * trie with a k-way merge of their lists.
 */
import { MinHeap, firstK } from './heap.js';
import { NONE, type Entry, type Slots } from './nodes.js';
import type { TopicIndex } from './topic-index.js';
import type { StoredMessage } from './types.js';

/**
 * A broad `prefix/#` filter, walked back through the receive-order list from `newest`: the first
 * `limit` matching messages (received at `since` or later), or with `lastKnown` the first `limit`
 * that are still their topic's newest message. Undefined when this does not pay, i.e. when the
 * matching topics are too few for the walk to beat visiting each of them, or when it gives up
 * after a step budget (a skewed store whose matching topics are quiet); the caller then merges.
 */
export function scanNewest(
  index: TopicIndex<Entry>,
  slots: Slots,
  newest: number,
  filter: string,
  limit: number,
  options: { since?: number; lastKnown?: boolean } = {},
): StoredMessage[] | undefined {
  if (!filter.endsWith('#') || filter.includes('+')) return undefined;
  const under = index.countMatches(filter);
  // With a share s = under / topics of the topics matching, about limit / s messages are
  // enough; a merge visits all `under` topics. Scan when that is the cheaper of the two.
  const expected = Math.ceil((limit * index.size) / Math.max(under, 1));
  if (under === 0 || expected >= under) return undefined;
  const prefix = filter.slice(0, -2);
  const matches =
    filter === '#'
      ? (topic: string) => !topic.startsWith('$')
      : (topic: string) =>
          topic === prefix || (topic.startsWith(prefix) && topic.charCodeAt(prefix.length) === 47);
  const since = options.since ?? -Infinity;
  const lastKnown = options.lastKnown === true;
  let budget = expected * 8 + 256;
  const out: StoredMessage[] = [];
  const { gPrev, receivedAt, entry } = slots;
  for (let m = newest; m !== NONE && out.length < limit; m = gPrev[m] as number) {
    if ((receivedAt[m] as number) < since) break;
    const e = entry[m] as Entry;
    if ((!lastKnown || e.tail === m) && matches(e.topic)) out.push(slots.view(m));
    if (--budget === 0) return undefined;
  }
  return out;
}

/** The matching topics' lists merged newest first (k-way, by a heap): O(matching topics). */
export function mergeNewest(
  index: TopicIndex<Entry>,
  slots: Slots,
  filter: string,
  limit: number,
  since: number,
): StoredMessage[] {
  const { receivedAt, tPrev } = slots;
  const tails: number[] = [];
  index.match(filter, (entry) => {
    if (entry.tail !== NONE && (receivedAt[entry.tail] as number) >= since) tails.push(entry.tail);
  });
  const heap = new MinHeap<number>(newestSlot(slots), tails);
  const out: StoredMessage[] = [];
  for (let top = heap.peek(); top !== undefined && out.length < limit; top = heap.peek()) {
    out.push(slots.view(top));
    const next = tPrev[top] as number;
    if (next !== NONE && (receivedAt[next] as number) >= since) heap.replaceTop(next);
    else heap.pop();
  }
  return out;
}

/** Newest first, by slot: later receive time, then higher sequence number. */
function newestSlot(slots: Slots): (a: number, b: number) => boolean {
  const { receivedAt, seq } = slots;
  return (a, b) => {
    const x = receivedAt[a] as number;
    const y = receivedAt[b] as number;
    return x > y || (x === y && (seq[a] as number) > (seq[b] as number));
  };
}

/** The newest message of every matching topic, the first `limit` newest first, and their count. */
export function latestOfEach(
  index: TopicIndex<Entry>,
  slots: Slots,
  filter: string,
  limit: number,
): { messages: StoredMessage[]; matched: number } {
  const all: number[] = [];
  index.match(filter, (entry) => {
    if (entry.tail !== NONE) all.push(entry.tail);
  });
  const matched = all.length; // before firstK, which may shorten the array
  return { messages: firstK(all, limit, newestSlot(slots)).map((s) => slots.view(s)), matched };
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
