/**
 * An index over topic levels, so that a wildcard query visits only the branches it can match
 * instead of every known topic. It is a radix trie over levels: a chain of levels that no other
 * topic branches from is one node (its label holds several levels), so every node but the root
 * holds a value or has at least two children, and there are at most twice as many nodes as
 * topics, however deep or oddly shaped the topics are ('a/a/a/...', '////').
 * Each node counts the values below it (so "how many topics under plant/#" is one lookup), and
 * keeps its children's keys sorted once asked (so a listing in tree order visits only what it
 * returns). The index counts what it costs on the heap (`bytes`, see cost.ts). Every walk is
 * iterative: a topic may have tens of thousands of levels.
 */
import { CHILDREN_BYTES, NODE_BYTES, VALUE_BYTES, ownCopy, textBytes } from './cost.js';

interface TrieNode<V> {
  /** The label's first level: the node's key in its parent's children. */
  key: string;
  /** The label's further levels joined by '/'; undefined when the label is one level. */
  tail: string | undefined;
  children: Map<string, TrieNode<V>> | undefined;
  /** The children's keys in sort order; undefined until needed, dropped when children change. */
  sorted: string[] | undefined;
  value: V | undefined;
  /** Values in this subtree, this node's own included. */
  count: number;
}

function node<V>(key: string, tail: string | undefined): TrieNode<V> {
  return { key, tail, children: undefined, sorted: undefined, value: undefined, count: 0 };
}

/** Heap bytes of one node with its strings and, when it has children, their map. */
function nodeBytes<V>(n: TrieNode<V>): number {
  return (
    NODE_BYTES +
    textBytes(n.key) +
    (n.tail === undefined ? 0 : textBytes(n.tail)) +
    (n.children === undefined ? 0 : CHILDREN_BYTES)
  );
}

/** The first level of levels joined by '/' (split shares the short strings it makes, slice does not). */
function firstLevel(text: string): string {
  return text.split('/', 1)[0] as string;
}

// Results of matching a node's tail against filter levels (else: the next filter level).
const FAIL = -1;
const ALL = -2;

export class TopicIndex<V> {
  private readonly root: TrieNode<V> = node('', undefined);
  private readonly nodes = new Map<string, TrieNode<V>>();
  private nodeTotal = 0;
  private byteTotal = 0;

  get size(): number {
    return this.nodes.size;
  }

  /** Trie nodes below the root (at most twice the number of topics). */
  get nodeCount(): number {
    return this.nodeTotal;
  }

  /** What the index costs on the heap: its nodes, their labels and maps, and its topic map. */
  get bytes(): number {
    return this.byteTotal + this.nodes.size * VALUE_BYTES;
  }

  get(topic: string): V | undefined {
    return this.nodes.get(topic)?.value;
  }

  set(topic: string, value: V): void {
    const existing = this.nodes.get(topic);
    if (existing !== undefined) {
      existing.value = value;
      return;
    }
    const path = this.insert(topic);
    for (const n of path) n.count++;
    (path[path.length - 1] as TrieNode<V>).value = value;
    this.nodes.set(topic, path[path.length - 1] as TrieNode<V>);
  }

  delete(topic: string): boolean {
    const found = this.nodes.get(topic);
    if (found === undefined) return false;
    const path = this.pathTo(topic);
    this.nodes.delete(topic);
    found.value = undefined;
    for (const n of path) n.count--;
    // Prune the emptied branch, then restore the invariant where it stopped: a node without a
    // value needs two children, else it is merged with its only child.
    let i = path.length - 1;
    for (; i > 0 && (path[i] as TrieNode<V>).count === 0; i--)
      this.detach(path[i - 1] as TrieNode<V>, path[i] as TrieNode<V>);
    const current = path[i] as TrieNode<V>;
    if (i > 0 && current.value === undefined && current.children?.size === 1)
      this.mergeWithChild(path[i - 1] as TrieNode<V>, current);
    return true;
  }

  /** Every value whose topic matches the (valid) filter, in no particular order. */
  match(filter: string, visit: (value: V) => void): void {
    if (!filter.includes('+') && !filter.includes('#')) {
      const value = this.get(filter);
      if (value !== undefined) visit(value);
      return;
    }
    walk(this.root, filter.split('/'), false, (n) => {
      if (n.value !== undefined) visit(n.value);
      return true;
    });
  }

  /**
   * The first `limit` values matching the filter in tree order (level by level, each level
   * sorted by name), visiting little more than what is returned.
   */
  matchSorted(filter: string, limit: number): V[] {
    const out: V[] = [];
    if (limit <= 0) return out;
    walk(this.root, filter.split('/'), true, (n) => {
      if (n.value !== undefined) out.push(n.value);
      return out.length < limit;
    });
    return out;
  }

  /** How many values match the filter, counting whole subtrees under '#' without visiting them. */
  countMatches(filter: string): number {
    if (!filter.includes('+') && !filter.includes('#')) return this.nodes.has(filter) ? 1 : 0;
    let total = 0;
    const levels = filter.split('/');
    // Nodes whose key matched; `depth` is the filter level after it.
    const stack: Array<[TrieNode<V>, number]> = [[this.root, 0]];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      const [n, from] = item;
      const depth = n.tail === undefined ? from : matchTail(n.tail, levels, from);
      if (depth === FAIL) continue;
      if (depth === ALL) {
        total += n.count;
        continue;
      }
      const level = levels[depth];
      if (level === undefined) {
        if (n.value !== undefined) total++;
        continue;
      }
      if (level === '#') {
        // The parent level itself, and everything below (no '$' topics under a root '#').
        total += depth === 0 ? n.count - this.dollarCount() : n.count;
        continue;
      }
      if (n.children === undefined) continue;
      if (level === '+') {
        for (const child of n.children.values()) {
          if (depth === 0 && child.key.startsWith('$')) continue;
          stack.push([child, depth + 1]);
        }
      } else {
        const child = n.children.get(level);
        if (child !== undefined) stack.push([child, depth + 1]);
      }
    }
    return total;
  }

  values(): IterableIterator<V> {
    return (function* (nodes: Map<string, TrieNode<V>>) {
      for (const n of nodes.values()) if (n.value !== undefined) yield n.value;
    })(this.nodes);
  }

  /**
   * The path from the root to the node of a topic not yet in the index, made (and a branch
   * split) as needed.
   */
  private insert(topic: string): Array<TrieNode<V>> {
    // Strings kept in nodes are cut from the topic; own copies keep it from being retained.
    const wide = textBytes(topic) > topic.length;
    const levels = topic.split('/');
    const path: Array<TrieNode<V>> = [this.root];
    let n = this.root;
    let pos = 0; // where levels[k] starts in the topic
    for (let k = 0; ; k++) {
      const key = levels[k] as string;
      const end = pos + key.length; // the '/' after it, or the topic's end
      const last = end === topic.length;
      const child = n.children?.get(key);
      if (child === undefined) {
        const tail = last ? undefined : ownCopy(topic.slice(end + 1), wide);
        path.push(this.attach(n, node(ownCopy(key, wide), tail)));
        return path;
      }
      if (child.tail === undefined) {
        path.push(child);
        if (last) return path;
        n = child;
        pos = end + 1;
        continue;
      }
      if (last) {
        path.push(this.split(n, child, -1)); // the topic ends at the child's key
        return path;
      }
      // The longest run of whole levels the child's tail and the rest of the topic share.
      const tail = child.tail;
      const start = end + 1;
      let i = 0;
      while (
        i < tail.length &&
        start + i < topic.length &&
        tail.charCodeAt(i) === topic.charCodeAt(start + i)
      )
        i++;
      const tailEnds = i === tail.length || tail.charCodeAt(i) === 47;
      const topicEnds = start + i === topic.length || topic.charCodeAt(start + i) === 47;
      if (tailEnds && topicEnds && i === tail.length) {
        // The whole label matched.
        path.push(child);
        if (start + i === topic.length) return path;
        n = child;
        k += levelsIn(tail);
        pos = start + i + 1;
        continue;
      }
      if (tailEnds && topicEnds) {
        path.push(this.split(n, child, i)); // the topic ends inside the label, at a level boundary
        return path;
      }
      // They part inside a level: keep the shared whole levels, branch after them.
      const cut = i === 0 ? -1 : tail.lastIndexOf('/', i - 1);
      n = this.split(n, child, cut);
      path.push(n);
      k += cut === -1 ? 0 : levelsIn(tail.slice(0, cut));
      pos = cut === -1 ? start : start + cut + 1;
    }
  }

  /** The nodes from the root to a topic's node (the topic is in the index). */
  private pathTo(topic: string): Array<TrieNode<V>> {
    const path: Array<TrieNode<V>> = [this.root];
    let n = this.root;
    for (let pos = 0; ;) {
      const sep = topic.indexOf('/', pos);
      const child = (n.children as Map<string, TrieNode<V>>).get(
        sep === -1 ? topic.slice(pos) : topic.slice(pos, sep),
      ) as TrieNode<V>;
      path.push(child);
      if (sep === -1) return path;
      pos = child.tail === undefined ? sep + 1 : sep + child.tail.length + 2;
      if (pos > topic.length) return path;
      n = child;
    }
  }

  /**
   * Split a node's label after its key and `cut` characters of its tail (-1: after the key):
   * the returned new node takes the node's place and holds the first part.
   */
  private split(parent: TrieNode<V>, child: TrieNode<V>, cut: number): TrieNode<V> {
    const tail = child.tail as string;
    this.byteTotal -= nodeBytes(child);
    const wide = textBytes(tail) > tail.length;
    const upper = node<V>(child.key, cut === -1 ? undefined : ownCopy(tail.slice(0, cut), wide));
    upper.count = child.count;
    const rest = tail.slice(cut + 1);
    const key = firstLevel(rest);
    child.key = ownCopy(key, wide);
    child.tail = key.length === rest.length ? undefined : ownCopy(rest.slice(key.length + 1), wide);
    upper.children = new Map([[child.key, child]]);
    (parent.children as Map<string, TrieNode<V>>).set(upper.key, upper);
    this.byteTotal += nodeBytes(child) + nodeBytes(upper);
    this.nodeTotal++;
    return upper;
  }

  private attach(parent: TrieNode<V>, child: TrieNode<V>): TrieNode<V> {
    if (parent.children === undefined) {
      parent.children = new Map();
      if (parent !== this.root) this.byteTotal += CHILDREN_BYTES;
    }
    parent.children.set(child.key, child);
    parent.sorted = undefined;
    this.byteTotal += nodeBytes(child);
    this.nodeTotal++;
    return child;
  }

  private detach(parent: TrieNode<V>, child: TrieNode<V>): void {
    const children = parent.children as Map<string, TrieNode<V>>;
    children.delete(child.key);
    parent.sorted = undefined;
    this.byteTotal -= nodeBytes(child);
    this.nodeTotal--;
    if (children.size === 0 && parent !== this.root) {
      parent.children = undefined;
      this.byteTotal -= CHILDREN_BYTES;
    }
  }

  /** A node with no value and one child: the child takes its place, with both labels. */
  private mergeWithChild(parent: TrieNode<V>, n: TrieNode<V>): void {
    const child = (n.children as Map<string, TrieNode<V>>).values().next().value;
    if (child === undefined) return;
    this.byteTotal -= nodeBytes(n) + nodeBytes(child);
    const joined =
      (n.tail === undefined ? '' : `${n.tail}/`) +
      child.key +
      (child.tail === undefined ? '' : `/${child.tail}`);
    child.tail = ownCopy(joined, textBytes(joined) > joined.length);
    child.key = n.key;
    (parent.children as Map<string, TrieNode<V>>).set(n.key, child);
    this.byteTotal += nodeBytes(child);
    this.nodeTotal--;
  }

  private dollarCount(): number {
    let total = 0;
    for (const child of this.root.children?.values() ?? [])
      if (child.key.startsWith('$')) total += child.count;
    return total;
  }
}

/** How many levels a non-empty run of levels joined by '/' holds. */
function levelsIn(text: string): number {
  let count = 1;
  for (let i = text.indexOf('/'); i !== -1; i = text.indexOf('/', i + 1)) count++;
  return count;
}

/**
 * Match a node's tail (levels joined by '/') against the filter from level `depth`: the filter
 * level after it, FAIL, or ALL when a '#' inside the label takes the whole subtree.
 */
function matchTail(tail: string, levels: readonly string[], depth: number): number {
  let pos = 0;
  for (let d = depth; ; d++) {
    const sep = tail.indexOf('/', pos);
    const end = sep === -1 ? tail.length : sep;
    const level = levels[d];
    if (level === undefined) return FAIL; // the filter ends inside the label, where no value is
    if (level === '#') return ALL;
    if (level !== '+' && (level.length !== end - pos || !tail.startsWith(level, pos))) return FAIL;
    if (sep === -1) return d + 1;
    pos = sep + 1;
  }
}

/** The children's keys in sort order, cached on the node until its children change. */
function sortedKeys<V>(n: TrieNode<V>): string[] {
  n.sorted ??= [...(n.children?.keys() ?? [])].sort();
  return n.sorted;
}

/** Children of one node still to be visited, in order; `all` marks nodes under '#'. */
interface Frame<V> {
  readonly next: () => TrieNode<V> | undefined;
  readonly depth: number;
  readonly all: boolean;
}

/** The children of a node one at a time (sorted by key in sorted mode), '$' keys skipped on request. */
function childCursor<V>(n: TrieNode<V>, sorted: boolean, skipDollar: boolean): () => TrieNode<V> | undefined {
  const children = n.children as Map<string, TrieNode<V>>;
  if (sorted) {
    const keys = sortedKeys(n);
    let i = 0;
    return () => {
      while (i < keys.length) {
        const key = keys[i++] as string;
        if (!skipDollar || !key.startsWith('$')) return children.get(key);
      }
      return undefined;
    };
  }
  const it = children.values();
  return () => {
    for (let r = it.next(); r.done !== true; r = it.next()) {
      if (!skipDollar || !r.value.key.startsWith('$')) return r.value;
    }
    return undefined;
  };
}

/**
 * Depth-first over the nodes matching the filter levels; `visit` is called for each candidate
 * node (it checks for a value) and returns false to stop. In sorted mode the order is tree order.
 * Children are taken one at a time from a cursor per level, so stopping early after a few
 * values costs a few steps even under a node with a million children.
 */
function walk<V>(
  root: TrieNode<V>,
  levels: readonly string[],
  sorted: boolean,
  visit: (n: TrieNode<V>) => boolean,
): void {
  const frames: Array<Frame<V>> = [];
  const descend = (n: TrieNode<V>, depth: number, all: boolean, skipDollar: boolean) => {
    if (n.children !== undefined && n.children.size > 0)
      frames.push({ next: childCursor(n, sorted, skipDollar), depth, all });
  };
  const everything = (n: TrieNode<V>): boolean => {
    if (!visit(n)) return false;
    descend(n, 0, true, false);
    return true;
  };
  // Handles one node whose key matched, `from` being the filter level after the key; false stops the walk.
  const step = (node: TrieNode<V>, from: number, all: boolean): boolean => {
    if (all) return everything(node);
    // Literal levels are followed in a loop (topics may be thousands of levels deep).
    for (let n: TrieNode<V> | undefined = node, depth = from; n !== undefined; depth++) {
      if (n.tail !== undefined) {
        const next = matchTail(n.tail, levels, depth);
        if (next === FAIL) return true;
        if (next === ALL) return everything(n);
        depth = next;
      }
      const level = levels[depth];
      if (level === undefined) return visit(n);
      if (level === '#') {
        // '#' matches the parent level itself, except at the root (there is no topic "").
        if (depth > 0 && !visit(n)) return false;
        descend(n, depth + 1, true, depth === 0);
        return true;
      }
      if (level === '+') {
        descend(n, depth + 1, false, depth === 0);
        return true;
      }
      n = n.children?.get(level);
    }
    return true;
  };
  if (!step(root, 0, false)) return;
  while (frames.length > 0) {
    const frame = frames[frames.length - 1] as Frame<V>;
    const child = frame.next();
    if (child === undefined) frames.pop();
    else if (!step(child, frame.depth, frame.all)) return;
  }
}
