import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topicMatches } from '../../src/mqtt/topic.js';
import { TopicIndex } from '../../src/store/topic-index.js';
import { createRng } from './support/prng.js';
import { indexBytes } from './support/store-model.js';

interface NodeView {
  children: Map<string, NodeView> | undefined;
  value: unknown;
}

/**
 * Trie nodes below the root, counted by walking them (white-box: pruning is not visible through
 * the public API), checked against the index's own count and the radix invariant: every node but
 * the root holds a value or has two children.
 */
function nodeCount(index: TopicIndex<unknown>): number {
  const root = (index as unknown as { root: NodeView }).root;
  let count = 0;
  const stack: NodeView[] = [...(root.children?.values() ?? [])];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    count++;
    assert.ok(node.value !== undefined || (node.children?.size ?? 0) >= 2, 'a node without value branches');
    for (const child of node.children?.values() ?? []) stack.push(child);
  }
  assert.equal(index.nodeCount, count);
  return count;
}

function matchAll<V>(index: TopicIndex<V>, filter: string): V[] {
  const out: V[] = [];
  index.match(filter, (value) => out.push(value));
  return out;
}

function indexOf(topics: readonly string[]): TopicIndex<string> {
  const index = new TopicIndex<string>();
  for (const topic of topics) index.set(topic, topic);
  return index;
}

describe('TopicIndex set/get/delete', () => {
  it('stores, replaces and deletes values by exact topic', () => {
    const index = new TopicIndex<number>();
    assert.equal(index.size, 0);
    assert.equal(index.get('a/b'), undefined);
    index.set('a/b', 1);
    index.set('a', 2);
    index.set('a/b/c', 3);
    assert.equal(index.size, 3);
    assert.equal(index.get('a/b'), 1);
    assert.equal(index.get('a'), 2);
    assert.equal(index.get('a/b/c'), 3);
    assert.equal(index.get('a/b/c/d'), undefined);
    index.set('a/b', 10);
    assert.equal(index.size, 3, 'replacing does not add');
    assert.equal(index.get('a/b'), 10);
    assert.equal(index.delete('a/b'), true);
    assert.equal(index.delete('a/b'), false, 'second delete');
    assert.equal(index.delete('never'), false);
    assert.equal(index.get('a/b'), undefined);
    assert.equal(index.get('a/b/c'), 3, 'a child survives its parent');
    assert.equal(index.size, 2);
    assert.deepEqual([...index.values()].sort(), [2, 3]);
  });

  it('keeps topics that differ only by empty levels apart', () => {
    const topics = ['/', '//', 'a/', 'a//', '/a', 'a'];
    const index = indexOf(topics);
    assert.equal(index.size, topics.length);
    for (const topic of topics) assert.equal(index.get(topic), topic);
  });

  const PRUNE_CASES: ReadonlyArray<{
    name: string;
    topics: string[];
    remove: string[];
    nodes: number;
  }> = [
    { name: 'a single deep topic leaves nothing behind', topics: ['a/b/c/d'], remove: ['a/b/c/d'], nodes: 0 },
    {
      name: 'a shared prefix joins the sibling again',
      topics: ['a/b/c', 'a/b/d'],
      remove: ['a/b/c'],
      nodes: 1,
    },
    { name: 'a parent value keeps its node', topics: ['a', 'a/b/c'], remove: ['a/b/c'], nodes: 1 },
    { name: 'deleting the parent keeps the child path', topics: ['a', 'a/b/c'], remove: ['a'], nodes: 1 },
    {
      name: 'a branch point stays while it branches',
      topics: ['a/b/c', 'a/b/d', 'a/b/e'],
      remove: ['a/b/c'],
      nodes: 3,
    },
    {
      name: 'deleting everything empties the trie',
      topics: ['a', 'a/b', '/x', '$SYS/y'],
      remove: ['a/b', 'a', '/x', '$SYS/y'],
      nodes: 0,
    },
    { name: 'empty levels are pruned too', topics: ['//', '/'], remove: ['//'], nodes: 1 },
    { name: 'empty levels join again', topics: ['////', '//', '///x'], remove: ['//'], nodes: 3 },
  ];
  for (const c of PRUNE_CASES) {
    it(`prunes empty branches: ${c.name}`, () => {
      const index = indexOf(c.topics);
      for (const topic of c.remove) assert.equal(index.delete(topic), true);
      assert.equal(index.size, c.topics.length - c.remove.length);
      assert.equal(nodeCount(index), c.nodes);
      // What is left is still reachable, and a re-insert works.
      for (const topic of c.topics.filter((t) => !c.remove.includes(t)))
        assert.equal(index.get(topic), topic);
      for (const topic of c.remove) {
        index.set(topic, topic);
        assert.deepEqual(matchAll(index, topic), [topic]);
      }
    });
  }
});

describe('TopicIndex.match', () => {
  const TOPICS = [
    'a',
    'a/b',
    'a/b/c',
    'a/c',
    'a/',
    'b',
    '/',
    '/x',
    '$SYS',
    '$SYS/uptime',
    '$SYS/clients/count',
    'x/$y',
    'sport/tennis/player1',
    'sport/tennis/player1/ranking',
  ];
  const index = indexOf(TOPICS);

  const CASES: ReadonlyArray<readonly [string, string[]]> = [
    ['a', ['a']],
    ['a/b', ['a/b']],
    ['nope', []],
    ['a/b/c/d', []],
    ['+', ['a', 'b']],
    ['+/+', ['a/b', 'a/c', 'a/', '/', '/x', 'x/$y']],
    ['a/+', ['a/b', 'a/c', 'a/']],
    ['+/b', ['a/b']],
    ['+/+/+', ['a/b/c', 'sport/tennis/player1']],
    ['/+', ['/', '/x']],
    ['#', TOPICS.filter((t) => !t.startsWith('$'))],
    ['a/#', ['a', 'a/b', 'a/b/c', 'a/c', 'a/']],
    ['a/b/#', ['a/b', 'a/b/c']],
    ['/#', ['/', '/x']],
    ['+/#', TOPICS.filter((t) => !t.startsWith('$'))],
    ['sport/+/player1/#', ['sport/tennis/player1', 'sport/tennis/player1/ranking']],
    ['$SYS/#', ['$SYS', '$SYS/uptime', '$SYS/clients/count']],
    ['$SYS/+', ['$SYS/uptime']],
    ['$SYS', ['$SYS']],
    ['x/+', ['x/$y']],
    ['+/$y', ['x/$y']],
  ];
  for (const [filter, expected] of CASES) {
    it(`'${filter}' matches ${expected.length} topic(s)`, () => {
      assert.deepEqual(matchAll(index, filter).sort(), [...expected].sort());
      assert.deepEqual(
        [...expected].sort(),
        TOPICS.filter((t) => topicMatches(filter, t)).sort(),
        'the expectation agrees with topicMatches',
      );
    });
  }

  it('agrees with topicMatches over generated topics and filters, also after deletes', () => {
    const rng = createRng(20240501);
    const levels = ['a', 'b', 'c', '', '$s', 'dd'];
    const topics = new Set<string>();
    while (topics.size < 400) {
      const t = Array.from({ length: rng.int(1, 5) }, () => rng.pick(levels)).join('/');
      if (t !== '') topics.add(t);
    }
    const live = [...topics];
    const generated = indexOf(live);
    // Delete a third, so pruned branches are exercised too.
    const removed = live.filter(() => rng.chance(0.33));
    for (const t of removed) generated.delete(t);
    const kept = live.filter((t) => !removed.includes(t));
    assert.equal(generated.size, kept.length);
    const filterLevels = ['a', 'b', '', '$s', '+', '+'];
    for (let i = 0; i < 300; i++) {
      const f = Array.from({ length: rng.int(1, 5) }, () => rng.pick(filterLevels));
      if (rng.chance(0.4)) f[f.length - 1] = '#';
      const filter = f.join('/');
      if (filter === '') continue;
      const expected = kept.filter((t) => topicMatches(filter, t)).sort();
      assert.deepEqual(matchAll(generated, filter).sort(), expected, `filter '${filter}'`);
    }
  });
});

describe('TopicIndex with very deep topics', () => {
  it('handles a topic with 20,000 levels without overflowing the stack', () => {
    const levels = Array.from({ length: 20_000 }, (_, i) => `l${i % 7}`);
    const deep = levels.join('/');
    const allPlus = Array.from({ length: 20_000 }, () => '+').join('/');
    const index = new TopicIndex<string>();
    index.set(deep, 'deep');
    index.set('l0', 'shallow');
    assert.equal(index.get(deep), 'deep');
    assert.deepEqual(matchAll(index, deep), ['deep']);
    assert.deepEqual(matchAll(index, '#').sort(), ['deep', 'shallow']);
    assert.deepEqual(matchAll(index, 'l0/#').sort(), ['deep', 'shallow']);
    assert.deepEqual(matchAll(index, allPlus), ['deep']);
    assert.deepEqual(matchAll(index, `${levels.slice(0, -1).join('/')}/#`), ['deep']);
    assert.equal(nodeCount(index), 2, 'l0, and one node for the other 19,999 levels');
    assert.equal(index.delete(deep), true);
    assert.equal(nodeCount(index), 1, 'the deep branch is pruned down to l0');
    assert.deepEqual(matchAll(index, '#'), ['shallow']);
  });
});

describe('TopicIndex under random inserts and deletes (seeded)', () => {
  // Short, empty, '$', long (13+ characters: cut as views by V8) and wide (above U+00FF) levels.
  const LEVELS = ['a', 'b', '', '$s', 'dd', 'a-level-longer-than-13', '\u4e00\u4e8c', 'x\u00e9'];
  const FILTER_LEVELS = ['a', 'b', '', '$s', 'a-level-longer-than-13', '\u4e00\u4e8c', '+', '+'];
  for (const seed of [7, 8, 9]) {
    it(`seed ${seed}: counts, nodes and bytes follow the live topics; matches agree with topicMatches`, () => {
      const rng = createRng(seed);
      const index = new TopicIndex<string>();
      const live = new Set<string>();
      for (let step = 0; step < 3000; step++) {
        const topic = Array.from({ length: rng.int(1, 6) }, () => rng.pick(LEVELS)).join('/');
        if (rng.chance(live.size > 60 ? 0.6 : 0.3)) {
          assert.equal(index.delete(topic), live.delete(topic));
        } else {
          index.set(topic, topic);
          live.add(topic);
        }
        if (step % 25 !== 0) continue;
        assert.equal(index.size, live.size);
        assert.ok(nodeCount(index) <= 2 * live.size, 'at most two nodes per topic');
        assert.equal(index.bytes, indexBytes(live), `bytes at step ${step}`);
        const f = Array.from({ length: rng.int(1, 6) }, () => rng.pick(FILTER_LEVELS));
        if (rng.chance(0.4)) f[f.length - 1] = '#';
        const filter = f.join('/');
        const expected = [...live].filter((t) => topicMatches(filter, t));
        assert.deepEqual(matchAll(index, filter).sort(), [...expected].sort(), `match '${filter}'`);
        assert.equal(index.countMatches(filter), expected.length, `count '${filter}'`);
        const inTreeOrder = [...expected].sort(treeOrder);
        assert.deepEqual(index.matchSorted(filter, 5), inTreeOrder.slice(0, 5), `matchSorted '${filter}'`);
      }
      for (const topic of live) index.delete(topic);
      assert.equal(nodeCount(index), 0);
      assert.equal(index.bytes, 0);
    });
  }
});

/** Tree order: level by level, each level by name (as the store lists topics). */
function treeOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length - y.length;
}
