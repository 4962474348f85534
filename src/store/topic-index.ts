/**
 * An index over topic levels (a trie), so that a wildcard query visits only the branches it
 * can match instead of every known topic. Values are attached to the node of their topic.
 */

interface TrieNode<V> {
  readonly key: string;
  readonly parent: TrieNode<V> | undefined;
  children: Map<string, TrieNode<V>> | undefined;
  value: V | undefined;
}

export class TopicIndex<V> {
  private readonly root: TrieNode<V> = { key: '', parent: undefined, children: undefined, value: undefined };
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
    let node = this.root;
    for (const level of topic.split('/')) {
      let children = node.children;
      if (children === undefined) {
        children = new Map();
        node.children = children;
      }
      let child = children.get(level);
      if (child === undefined) {
        child = { key: level, parent: node, children: undefined, value: undefined };
        children.set(level, child);
      }
      node = child;
    }
    node.value = value;
    this.nodes.set(topic, node);
  }

  delete(topic: string): boolean {
    const node = this.nodes.get(topic);
    if (node === undefined) return false;
    this.nodes.delete(topic);
    node.value = undefined;
    // Prune empty branches up to the root.
    let current: TrieNode<V> = node;
    while (
      current.parent !== undefined &&
      current.value === undefined &&
      (current.children?.size ?? 0) === 0
    ) {
      current.parent.children?.delete(current.key);
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
    walk(this.root, filter.split('/'), visit);
  }

  values(): IterableIterator<V> {
    return (function* (nodes: Map<string, TrieNode<V>>) {
      for (const node of nodes.values()) if (node.value !== undefined) yield node.value;
    })(this.nodes);
  }
}

// Iterative on purpose: a topic may have tens of thousands of levels, which would overflow the
// call stack of a recursive walk.
function walk<V>(root: TrieNode<V>, levels: readonly string[], visit: (value: V) => void): void {
  const stack: Array<[TrieNode<V>, number]> = [[root, 0]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    const level = levels[depth];
    if (level === undefined) {
      if (node.value !== undefined) visit(node.value);
      continue;
    }
    if (level === '#') {
      // '#' matches the parent level itself, except at the root (there is no topic "").
      if (depth > 0 && node.value !== undefined) visit(node.value);
      visitAll(node, depth === 0, visit);
      continue;
    }
    const children = node.children;
    if (children === undefined) continue;
    if (level === '+') {
      for (const child of children.values()) {
        if (depth === 0 && child.key.startsWith('$')) continue;
        stack.push([child, depth + 1]);
      }
      continue;
    }
    const child = children.get(level);
    if (child !== undefined) stack.push([child, depth + 1]);
  }
}

function visitAll<V>(start: TrieNode<V>, skipDollar: boolean, visit: (value: V) => void): void {
  const stack: TrieNode<V>[] = [];
  for (const child of start.children?.values() ?? []) {
    if (skipDollar && child.key.startsWith('$')) continue;
    stack.push(child);
  }
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.value !== undefined) visit(node.value);
    if (node.children !== undefined) for (const child of node.children.values()) stack.push(child);
  }
}
