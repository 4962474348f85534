/**
 * An index over topic levels (a trie), so that a wildcard query visits only the branches it
 * can match instead of every known topic. Values are attached to the node of their topic.
 * Each node counts the values below it (so "how many topics under plant/#" is one lookup), and
 * keeps its children's keys sorted once asked (so a listing in tree order visits only what it
 * returns). Every walk is iterative: a topic may have tens of thousands of levels.
 */

interface TrieNode<V> {
  readonly key: string;
  readonly parent: TrieNode<V> | undefined;
  children: Map<string, TrieNode<V>> | undefined;
  /** The children's keys in sort order; undefined until needed, dropped when children change. */
  sorted: string[] | undefined;
  value: V | undefined;
  /** Values in this subtree, this node's own included. */
  count: number;
}

function node<V>(key: string, parent: TrieNode<V> | undefined): TrieNode<V> {
  return { key, parent, children: undefined, sorted: undefined, value: undefined, count: 0 };
}

export class TopicIndex<V> {
  private readonly root: TrieNode<V> = node('', undefined);
  private readonly nodes = new Map<string, TrieNode<V>>();

  get size(): number {
    return this.nodes.size;
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
    let current = this.root;
    current.count++;
    for (const level of topic.split('/')) {
      let children = current.children;
      if (children === undefined) {
        children = new Map();
        current.children = children;
      }
      let child = children.get(level);
      if (child === undefined) {
        child = node(level, current);
        children.set(level, child);
        current.sorted = undefined;
      }
      child.count++;
      current = child;
    }
    current.value = value;
    this.nodes.set(topic, current);
  }

  delete(topic: string): boolean {
    const found = this.nodes.get(topic);
    if (found === undefined) return false;
    this.nodes.delete(topic);
    found.value = undefined;
    for (let n: TrieNode<V> | undefined = found; n !== undefined; n = n.parent) n.count--;
    // Prune empty branches up to the root.
    let current: TrieNode<V> = found;
    while (current.parent !== undefined && current.count === 0) {
      current.parent.children?.delete(current.key);
      current.parent.sorted = undefined;
      current = current.parent;
    }
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
    const stack: Array<[TrieNode<V>, number]> = [[this.root, 0]];
    for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
      const [n, depth] = item;
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

  private dollarCount(): number {
    let total = 0;
    for (const child of this.root.children?.values() ?? [])
      if (child.key.startsWith('$')) total += child.count;
    return total;
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
  // Handles one node; false stops the walk.
  const step = (node: TrieNode<V>, from: number, all: boolean): boolean => {
    if (all) {
      if (!visit(node)) return false;
      descend(node, from, true, false);
      return true;
    }
    // Literal levels are followed in a loop (topics may be thousands of levels deep).
    for (let n: TrieNode<V> | undefined = node, depth = from; n !== undefined; depth++) {
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
