import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_TOPIC_BYTES,
  filterCovers,
  filtersOverlap,
  topicFilterProblem,
  topicMatches,
  topicNameProblem,
} from '../../src/mqtt/topic.js';
import { createRng } from './support/prng.js';

// Strings near the 65,535-byte limit, built from characters of 1, 2, 3 and 4 UTF-8 bytes.
const ascii = (n: number) => 'x'.repeat(n);
const twoByte = 'ü'; // 2 bytes
const threeByte = '€'; // 3 bytes
const fourByte = '😀'; // 4 bytes, a surrogate pair in UTF-16
assert.equal(Buffer.byteLength(threeByte.repeat(21_845)), MAX_TOPIC_BYTES);

/** [name, value, expected problem (regexp) or undefined when valid] */
type ProblemCase = readonly [string, string, RegExp | undefined];

const COMMON_CASES: readonly ProblemCase[] = [
  ['empty', '', /must not be empty/],
  ['NUL inside', 'a\u0000b', /NUL/],
  ['NUL alone', '\u0000', /NUL/],
  ['newline', 'a\nb', /control characters/],
  ['tab', 'a\tb', /control characters/],
  ['ESC (terminal escape)', 'a/\u001b[31m/b', /control characters/],
  ['DEL', 'a\u007f', /control characters/],
  ['C1 control U+0085', 'a\u0085b', /control characters/],
  ['C1 control U+009F', '\u009f', /control characters/],
  ['lone high surrogate at the end', 'a/\ud83d', /lone surrogate/],
  ['lone low surrogate', 'a\ude00b', /lone surrogate/],
  ['two high surrogates', '\ud83d\ud83d\ude00', /lone surrogate/],
  ['reversed surrogate pair', '\ude00\ud83d', /lone surrogate/],
  ['65,535 ASCII bytes', ascii(MAX_TOPIC_BYTES), undefined],
  ['65,536 ASCII bytes', ascii(MAX_TOPIC_BYTES + 1), /longer than 65535 bytes/],
  ['21,845 x 3-byte chars = 65,535 bytes', threeByte.repeat(21_845), undefined],
  ['21,845 x 3-byte chars + 1 byte', threeByte.repeat(21_845) + 'a', /longer than 65535 bytes/],
  ['32,767 x 2-byte chars + 1 byte = 65,535', twoByte.repeat(32_767) + 'a', undefined],
  ['32,768 x 2-byte chars = 65,536', twoByte.repeat(32_768), /longer than 65535 bytes/],
  ['16,383 x 4-byte chars + 3 bytes = 65,535', fourByte.repeat(16_383) + 'abc', undefined],
  ['16,384 x 4-byte chars = 65,536', fourByte.repeat(16_384), /longer than 65535 bytes/],
  ['22,000 x 3-byte chars (UTF-16 length below the limit)', threeByte.repeat(22_000), /longer than 65535/],
];

const NAME_CASES: readonly ProblemCase[] = [
  ...COMMON_CASES,
  ['single level', 'a', undefined],
  ['several levels', 'plant/line1/pump/temp', undefined],
  ['only a separator', '/', undefined],
  ['leading separator', '/finance', undefined],
  ['trailing separator', 'sport/', undefined],
  ['empty middle level', 'a//b', undefined],
  ['$SYS topic', '$SYS/broker/uptime', undefined],
  ['spaces', ' a b ', undefined],
  ['non-ASCII and emoji', 'küche/😀/temp', undefined],
  ['plus', 'a/+/b', /wildcards/],
  ['hash', 'a/#', /wildcards/],
  ['plus inside a level', 'a+b', /wildcards/],
  ['hash inside a level', 'room#1', /wildcards/],
];

const FILTER_CASES: readonly ProblemCase[] = [
  ...COMMON_CASES,
  ['concrete topic', 'a/b', undefined],
  ['#', '#', undefined],
  ['+', '+', undefined],
  ['+/+', '+/+', undefined],
  ['a/#', 'a/#', undefined],
  ['/#', '/#', undefined],
  ['+/#', '+/#', undefined],
  ['a/+/b/#', 'a/+/b/#', undefined],
  ['empty levels with wildcards', '+//+/#', undefined],
  ['$SYS/#', '$SYS/#', undefined],
  ['# not last', 'a/#/b', /# only as a whole last level/],
  ['# first of two', '#/a', /# only as a whole last level/],
  ['# inside a level', 'a/b#', /# only as a whole last level/],
  ['## level', 'a/##', /# only as a whole last level/],
  ['# joined to +', '+#', /# only as a whole last level/],
  ['+ inside a level', 'a+', /\+ only as a whole level/],
  ['+ prefix', '+a/b', /\+ only as a whole level/],
  ['++ level', 'a/++', /\+ only as a whole level/],
];

describe('topicNameProblem', () => {
  for (const [name, value, expected] of NAME_CASES) {
    it(`${expected === undefined ? 'accepts' : 'refuses'} ${name}`, () => {
      const problem = topicNameProblem(value);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '<valid>', expected);
    });
  }
});

describe('topicFilterProblem', () => {
  for (const [name, value, expected] of FILTER_CASES) {
    it(`${expected === undefined ? 'accepts' : 'refuses'} ${name}`, () => {
      const problem = topicFilterProblem(value);
      if (expected === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '<valid>', expected);
    });
  }
});

/** [filter, topic, matches] — the examples of MQTT 5.0 section 4.7 and more. */
const MATCH_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ['sport/tennis/player1/#', 'sport/tennis/player1', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
  ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
  ['sport/tennis/player1/#', 'sport/tennis/player2', false],
  ['sport/#', 'sport', true],
  ['sport/#', 'sports', false],
  ['sport/tennis/+', 'sport/tennis/player1', true],
  ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
  ['sport/+', 'sport', false],
  ['sport/+', 'sport/', true],
  ['+/+', '/finance', true],
  ['/+', '/finance', true],
  ['+', '/finance', false],
  ['+', 'a', true],
  ['+', 'a/b', false],
  ['#', 'a', true],
  ['#', '/', true],
  ['#', 'a/b/c', true],
  ['/#', '/', true],
  ['/#', '/a/b', true],
  ['/#', 'a', false],
  ['a/+/b', 'a//b', true],
  ['a//b', 'a//b', true],
  ['a/b', 'a/b/', false],
  ['a/b/#', 'a/b/', true],
  ['a/b', 'a', false],
  ['a', 'a/b', false],
  ['A', 'a', false],
  ['#', '$SYS', false],
  ['#', '$SYS/broker/uptime', false],
  ['+', '$SYS', false],
  ['+/monitor/Clients', '$SYS/monitor/Clients', false],
  ['+/#', '$SYS/x', false],
  ['$SYS/#', '$SYS/monitor/Clients', true],
  ['$SYS/#', '$SYS', true],
  ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
  ['$SYS/+', '$OTHER/x', false],
  ['#', 'a/$x', true],
  ['+/+', 'a/$x', true],
  ['a/$x', 'a/$x', true],
];

describe('topicMatches', () => {
  for (const [filter, topic, expected] of MATCH_CASES) {
    it(`'${filter}' ${expected ? 'matches' : 'does not match'} '${topic}'`, () => {
      assert.equal(topicMatches(filter, topic), expected);
    });
  }
});

/** [rule, request, covered] */
const COVER_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ['#', '#', true],
  ['#', 'a/b', true],
  ['#', '+/+', true],
  ['#', 'a/+/#', true],
  ['#', '$SYS/#', false],
  ['#', '$SYS', false],
  ['#', '$SYS/+', false],
  ['+', '#', false],
  ['+', '+', true],
  ['+', 'a', true],
  ['+', 'a/b', false],
  ['+', '$x', false],
  ['+/+', '$x/a', false],
  ['+/#', '$SYS/#', false],
  ['$SYS/#', '$SYS/#', true],
  ['$SYS/#', '$SYS', true],
  ['$SYS/#', '$SYS/a/+', true],
  ['$SYS/+', '$SYS/#', false],
  ['a/#', 'a', true],
  ['a/#', 'a/+', true],
  ['a/#', 'a/#', true],
  ['a/#', 'a/b/c', true],
  ['a/#', 'a/+/#', true],
  ['a/#', 'b', false],
  ['a/#', '+', false],
  ['a/#', '#', false],
  ['a/#', 'a/../b', true],
  ['a/+/#', 'a/#', false],
  ['a/+/#', 'a', false],
  ['a/+/#', 'a/+', true],
  ['a/+/#', 'a/b/#', true],
  ['a/+', 'a/#', false],
  ['a/+', 'a', false],
  ['a/+', 'a/+/c', false],
  ['a/+/c', 'a/+/c', true],
  ['a/+/c', 'a/b/c', true],
  ['a/b', 'a/+', false],
  ['a/b', 'a/b', true],
  ['a/b', 'a/b/#', false],
  ['a/b', 'a', false],
  ['a/b/#', 'a/b', true],
  ['a/b/#', 'a', false],
  ['+/b', 'a/b', true],
  ['+/b', '+/b', true],
  ['/#', '/a', true],
  ['/#', 'a', false],
  // `+/#` matches every topic `#` matches: a non-$ first level, then anything (even nothing).
  ['+/#', '#', true],
  ['+/#', '+', true],
];

describe('filterCovers', () => {
  for (const [rule, request, expected] of COVER_CASES) {
    it(`rule '${rule}' ${expected ? 'covers' : 'does not cover'} request '${request}'`, () => {
      assert.equal(filterCovers(rule, request), expected);
    });
  }
});

/** [a, b, overlap]; checked in both argument orders. */
const OVERLAP_CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  ['#', '#', true],
  ['#', 'a/b', true],
  ['#', '+/+/+', true],
  ['#', '$SYS/#', false],
  ['#', '$SYS', false],
  ['+', '$SYS', false],
  ['+/x', '$SYS/x', false],
  ['$SYS/#', '$SYS/+', true],
  ['$SYS', '$SYS/#', true],
  ['$SYS/#', '$OTHER/#', false],
  ['a/+', '+/b', true],
  ['a/b', 'a/c', false],
  ['a/#', 'a', true],
  ['a/+', 'a', false],
  ['a', 'a/b', false],
  ['+', '+/+', false],
  ['a/b/c', 'a/#', true],
  ['a/$x', '+/+', true],
  ['a/+/c', 'a/b/+', true],
  ['a/+/c', 'a/b/d', false],
  // '/#' and '+' could only share the empty topic, which is not a valid topic name.
  ['/#', '+', false],
  ['/#', '#', true],
];

describe('filtersOverlap', () => {
  for (const [a, b, expected] of OVERLAP_CASES) {
    it(`'${a}' and '${b}' ${expected ? 'overlap' : 'do not overlap'}`, () => {
      assert.equal(filtersOverlap(a, b), expected);
      assert.equal(filtersOverlap(b, a), expected, 'symmetric');
    });
  }
});

// ---- brute force: coverage and overlap against matching over generated topics ----

/** An independent matcher: the filter as a regular expression, plus the `$` rule. */
function referenceMatcher(filter: string): (topic: string) => boolean {
  const levels = filter.split('/');
  const escape = (level: string) => (level === '+' ? '[^/]*' : level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  let source: string;
  if (levels[levels.length - 1] === '#') {
    const base = levels.slice(0, -1);
    source = base.length === 0 ? '.*' : `${base.map(escape).join('/')}(?:/.*)?`;
  } else {
    source = levels.map(escape).join('/');
  }
  const regexp = new RegExp(`^${source}$`, 's');
  const wildFirst = levels[0] === '+' || levels[0] === '#';
  return (topic) => !(wildFirst && topic.startsWith('$')) && regexp.test(topic);
}

const FILTER_LEVELS = ['a', 'b', '$x', '', '+'] as const;
const TOPIC_LEVELS = ['a', 'b', '$x', '', 'c'] as const;

function generate() {
  const rng = createRng(0x5eed);
  const topics = new Set<string>();
  // Every topic of up to 3 levels (so any two overlapping filters of up to 3 levels share one)...
  const grow = (prefix: string[], depth: number) => {
    if (prefix.length > 0 && prefix.join('/') !== '') topics.add(prefix.join('/'));
    if (depth === 0) return;
    for (const level of TOPIC_LEVELS) grow([...prefix, level], depth - 1);
  };
  grow([], 3);
  // ...and random deeper ones.
  while (topics.size < 1500) {
    const depth = rng.int(1, 6);
    const topic = Array.from({ length: depth }, () => rng.pick(TOPIC_LEVELS)).join('/');
    if (topicNameProblem(topic) === undefined) topics.add(topic);
  }
  const filters = new Set<string>(['#', '+', '+/#', '$x/#']);
  while (filters.size < 260) {
    const depth = rng.int(1, 4);
    const levels: string[] = Array.from({ length: depth }, () => rng.pick(FILTER_LEVELS));
    if (rng.chance(0.35)) levels[levels.length - 1] = '#';
    const filter = levels.join('/');
    if (topicFilterProblem(filter) === undefined) filters.add(filter);
  }
  return { topics: [...topics], filters: [...filters] };
}

describe('generated topics and filters (seeded)', () => {
  const { topics, filters } = generate();
  const words = Math.ceil(topics.length / 32);
  const matched = new Map<string, Uint32Array>();
  for (const filter of filters) {
    const bits = new Uint32Array(words);
    topics.forEach((topic, i) => {
      if (topicMatches(filter, topic)) bits[i >>> 5] = (bits[i >>> 5] ?? 0) | (1 << (i & 31));
    });
    matched.set(filter, bits);
  }
  const bitsOf = (filter: string) => matched.get(filter) as Uint32Array;
  const firstTopic = (pred: (word: number, i: number) => number): string | undefined => {
    for (let w = 0; w < words; w++) {
      const bits = pred(w, w);
      if (bits !== 0) return topics[w * 32 + (31 - Math.clz32(bits & -bits))];
    }
    return undefined;
  };

  it('topicMatches agrees with a regular-expression reference on every pair', () => {
    const wrong: string[] = [];
    for (const filter of filters) {
      const reference = referenceMatcher(filter);
      for (const topic of topics) {
        if (topicMatches(filter, topic) !== reference(topic)) wrong.push(`'${filter}' vs '${topic}'`);
      }
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong pairs`);
  });

  it('filterCovers(rule, request) implies every topic the request matches is matched by the rule', () => {
    let nonTrivial = 0;
    const wrong: string[] = [];
    for (const rule of filters) {
      for (const request of filters) {
        if (!filterCovers(rule, request)) continue;
        if (rule !== request) nonTrivial++;
        const r = bitsOf(rule);
        const q = bitsOf(request);
        const escaped = firstTopic((w) => (q[w] ?? 0) & ~(r[w] ?? 0));
        if (escaped !== undefined) wrong.push(`rule '${rule}' covers '${request}' but misses '${escaped}'`);
      }
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong pairs`);
    assert.ok(nonTrivial > 500, `only ${nonTrivial} non-trivial covered pairs were generated`);
  });

  it('filtersOverlap is true exactly when a generated topic matches both', () => {
    let overlapping = 0;
    const wrong: string[] = [];
    for (const a of filters) {
      for (const b of filters) {
        const x = bitsOf(a);
        const y = bitsOf(b);
        const shared = firstTopic((w) => (x[w] ?? 0) & (y[w] ?? 0));
        const overlap = filtersOverlap(a, b);
        if (shared !== undefined) {
          overlapping++;
          if (!overlap) wrong.push(`'${a}' and '${b}' both match '${shared}' but do not overlap`);
        } else if (overlap && a.split('/').length <= 3 && b.split('/').length <= 3) {
          // Every topic of up to 3 levels was generated, so a shared topic would have been found.
          wrong.push(`'${a}' and '${b}' overlap but share no topic`);
        }
      }
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} wrong pairs`);
    assert.ok(overlapping > 1000);
  });
});
