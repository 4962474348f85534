/**
 * Property tests (fast-check, fixed seed) for topic matching, filter coverage and overlap
 * (src/mqtt/topic.ts) and the topic policy built on them (src/policy/acl.ts), against a
 * brute-force reference written here:
 *
 * - the reference matcher turns a filter into a regular expression (a formulation independent
 *   of the level-walking code under test);
 * - coverage and overlap are decided by enumeration over a finite UNIVERSE of topics: every
 *   topic of 1..UNIVERSE_DEPTH levels over the level alphabet LEVELS.
 *
 * Why the finite universe decides the infinite question, given the restrictions on generated
 * filters (levels from LEVELS plus '+', '#' only as the last level, at most MAX_FILTER_LEVELS
 * levels counting '#', so UNIVERSE_DEPTH = MAX_FILTER_LEVELS + 1):
 * - covers(rule, req) fails iff some topic T matches req and not rule. Whether a filter of n
 *   levels matches T depends only on T's first n levels and on whether T has fewer than, exactly,
 *   or more than n levels; so cutting T to MAX_FILTER_LEVELS + 1 levels keeps both facts (req
 *   still matches because a longer T can only have matched through a trailing '#'). Levels of T
 *   under a wildcard of req can be replaced by 'a' or 'b' (at least one of the two differs from
 *   rule's literal at that level; neither starts with '$' nor is empty, so the first level does
 *   not become a '$' level or the invalid empty topic). Levels under a literal of req are that
 *   literal, already in LEVELS. So a witness exists in the universe.
 * - overlap(a, b) holds iff some topic T matches both: take T with every level under a literal
 *   set to it and every other level 'a', of length max(levels of a, levels of b) cut as above;
 *   it is in the universe. (The empty topic "" is not a topic and not in the universe: the
 *   filters "/#" and "+" share only "" and must not overlap.)
 * Widening the generators (more levels, or literals outside LEVELS) would break this argument.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { filterCovers, filtersOverlap, topicFilterProblem, topicMatches } from '../../src/mqtt/topic.js';
import { TopicPolicy } from '../../src/policy/acl.js';

const SEED = 20_240_501;
const RUNS = 2000;

/** Literal levels: two plain ones, the empty level, and a '$' level (special only when first). */
const LEVELS = ['a', 'b', '', '$s'] as const;
const MAX_FILTER_LEVELS = 4;
const UNIVERSE_DEPTH = MAX_FILTER_LEVELS + 1;

function enumerateTopics(depth: number): string[] {
  const out: string[] = [];
  let layer: string[][] = [[]];
  for (let d = 1; d <= depth; d++) {
    layer = layer.flatMap((levels) => LEVELS.map((l) => [...levels, l]));
    for (const levels of layer) out.push(levels.join('/'));
  }
  // "" (one empty level) is not a valid topic name.
  return out.filter((t) => t !== '');
}
const UNIVERSE = enumerateTopics(UNIVERSE_DEPTH);

/** Every valid filter of 1..maxLevels levels over LEVELS, '+' and a trailing '#'. */
function enumerateFilters(maxLevels: number): string[] {
  const out = ['#'];
  let layer: string[][] = [[]];
  for (let d = 1; d <= maxLevels; d++) {
    layer = layer.flatMap((levels) => [...LEVELS, '+'].map((l) => [...levels, l]));
    for (const levels of layer) {
      out.push(levels.join('/'));
      if (d < maxLevels) out.push([...levels, '#'].join('/'));
    }
  }
  return out.filter((f) => f !== '');
}

// ---- the reference ----

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** MQTT 5.0 4.7 as a regular expression: '+' is [^/]*, a trailing '#' is "this level and below". */
function filterRegex(filter: string): RegExp {
  const levels = filter.split('/');
  const hash = levels[levels.length - 1] === '#';
  const fixed = hash ? levels.slice(0, -1) : levels;
  const body = fixed.map((l) => (l === '+' ? '[^/]*' : escapeRe(l))).join('/');
  const source = !hash ? body : fixed.length === 0 ? '.*' : `${body}(?:/.*)?`;
  return new RegExp(`^${source}$`, 's');
}

const regexCache = new Map<string, RegExp>();
function refMatches(filter: string, topic: string): boolean {
  // A filter starting with a wildcard never matches a topic starting with '$' (4.7.2).
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  let re = regexCache.get(filter);
  if (re === undefined) regexCache.set(filter, (re = filterRegex(filter)));
  return re.test(topic);
}

/** Which universe topics a filter matches, as a bit per topic (cached: filters repeat). */
const matchedCache = new Map<string, Uint8Array>();
function matched(filter: string): Uint8Array {
  let bits = matchedCache.get(filter);
  if (bits === undefined) {
    bits = Uint8Array.from(UNIVERSE, (t) => (refMatches(filter, t) ? 1 : 0));
    matchedCache.set(filter, bits);
  }
  return bits;
}

function refCovers(rule: string, request: string): boolean {
  const r = matched(rule);
  const q = matched(request);
  for (let i = 0; i < q.length; i++) if (q[i] === 1 && r[i] !== 1) return false;
  return true;
}

function refOverlap(a: string, b: string): boolean {
  const x = matched(a);
  const y = matched(b);
  for (let i = 0; i < x.length; i++) if (x[i] === 1 && y[i] === 1) return true;
  return false;
}

// ---- generators ----

const literal = fc.constantFrom(...LEVELS);
const filterLevel = fc.oneof({ arbitrary: literal, weight: 3 }, { arbitrary: fc.constant('+'), weight: 2 });

/** A valid filter: 1..MAX_FILTER_LEVELS levels, '#' only as the last one. */
const filterArb: fc.Arbitrary<string> = fc
  .tuple(fc.array(filterLevel, { minLength: 1, maxLength: MAX_FILTER_LEVELS }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels.slice(0, MAX_FILTER_LEVELS - 1), '#'] : levels).join('/'))
  .filter((f) => f !== '');

/** A filter derived from another (generalised or specialised per level), so pairs are often related. */
const relatedPair: fc.Arbitrary<[string, string]> = fc
  .tuple(
    filterArb,
    fc.array(fc.constantFrom('keep', 'plus', 'a', 'hash', 'drop', 'add'), {
      minLength: 1,
      maxLength: 3,
    }),
    fc.nat(10),
  )
  .map(([base, edits, pos]): [string, string] => {
    let levels = base.split('/');
    for (const edit of edits) {
      const i = pos % levels.length;
      if (edit === 'plus' && levels[i] !== '#') levels[i] = '+';
      if (edit === 'a' && levels[i] !== '#') levels[i] = 'a';
      if (edit === 'hash') levels = [...levels.slice(0, i + 1).filter((l) => l !== '#'), '#'];
      if (edit === 'drop' && levels.length > 1) levels = levels.slice(0, -1);
      if (edit === 'add' && levels[levels.length - 1] !== '#') levels = [...levels, 'b'];
    }
    levels = levels.slice(0, MAX_FILTER_LEVELS);
    if (levels.includes('#')) levels = [...levels.slice(0, levels.indexOf('#')), '#'];
    const other = levels.join('/');
    return [base, other === '' ? '+' : other];
  });

const pairArb = fc.oneof(fc.tuple(filterArb, filterArb), relatedPair);

/** Topics: from the universe, and deeper ones (up to 7 levels) for the matcher alone. */
const topicArb = fc.oneof(
  fc.constantFrom(...UNIVERSE),
  fc.array(literal, { minLength: 1, maxLength: 7 }).map((l) => l.join('/')),
);

const options = { seed: SEED, numRuns: RUNS };

/** Counts outcomes, so a property that only ever saw one answer fails as not meaningful. */
function tally(): { see(v: boolean): void; assertBoth(min: number): void } {
  let yes = 0;
  let no = 0;
  return {
    see: (v) => (v ? yes++ : no++),
    assertBoth: (min) => {
      assert.ok(yes >= min && no >= min, `too one-sided to be meaningful: ${yes} true, ${no} false`);
    },
  };
}

describe('reference sanity', () => {
  it('the universe holds every topic of 1..5 levels over the alphabet, "" excluded', () => {
    assert.equal(UNIVERSE.length, 4 + 16 + 64 + 256 + 1024 - 1);
    assert.ok(UNIVERSE.includes('/'));
    assert.ok(UNIVERSE.includes('$s/a'));
  });
  it('the reference matcher gives the spec examples (MQTT 5.0 4.7.1 and 4.7.2)', () => {
    const yes: Array<[string, string]> = [
      ['sport/tennis/player1/#', 'sport/tennis/player1'],
      ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon'],
      ['sport/#', 'sport'],
      ['#', 'a/b'],
      ['+', 'a'],
      ['+/+', '/finance'],
      ['/+', '/finance'],
      ['+/tennis/#', 'sport/tennis/player1'],
      ['$SYS/#', '$SYS/x'],
      ['$SYS/monitor/+', '$SYS/monitor/Clients'],
      ['a/+', 'a/'],
    ];
    const no: Array<[string, string]> = [
      ['sport/tennis/+', 'sport/tennis/player1/ranking'],
      ['sport/+', 'sport'],
      ['+', '/finance'],
      ['#', '$SYS/x'],
      ['+/monitor/Clients', '$SYS/monitor/Clients'],
      ['a/b', 'a/B'],
    ];
    for (const [f, t] of yes) assert.equal(refMatches(f, t), true, `${f} should match ${t}`);
    for (const [f, t] of no) assert.equal(refMatches(f, t), false, `${f} should not match ${t}`);
  });
  it('generated filters are valid and within the size the universe argument needs', () => {
    fc.assert(
      fc.property(filterArb, (f) => {
        assert.equal(topicFilterProblem(f), undefined, f);
        assert.ok(f.split('/').length <= MAX_FILTER_LEVELS, f);
      }),
      options,
    );
    fc.assert(
      fc.property(relatedPair, ([a, b]) => {
        assert.equal(topicFilterProblem(a), undefined, a);
        assert.equal(topicFilterProblem(b), undefined, b);
        assert.ok(b.split('/').length <= MAX_FILTER_LEVELS, b);
      }),
      options,
    );
  });
});

describe('topic.ts against the reference', () => {
  it('topicMatches(filter, topic) agrees with the reference matcher', () => {
    const t = tally();
    fc.assert(
      fc.property(filterArb, topicArb, (filter, topic) => {
        const expected = refMatches(filter, topic);
        t.see(expected);
        assert.equal(topicMatches(filter, topic), expected, `topicMatches(${filter}, ${topic})`);
      }),
      { ...options, numRuns: RUNS * 3 },
    );
    t.assertBoth(RUNS / 10);
  });

  it('topicMatches agrees on every universe topic for a sample of filters', () => {
    fc.assert(
      fc.property(filterArb, (filter) => {
        for (const topic of UNIVERSE) {
          if (topicMatches(filter, topic) !== refMatches(filter, topic)) {
            assert.fail(`topicMatches(${JSON.stringify(filter)}, ${JSON.stringify(topic)}) disagrees`);
          }
        }
      }),
      { ...options, numRuns: 300 },
    );
  });

  it('filterCovers(rule, req) is true iff every universe topic req matches, rule matches too', () => {
    const t = tally();
    fc.assert(
      fc.property(pairArb, ([rule, request]) => {
        const expected = refCovers(rule, request);
        t.see(expected);
        assert.equal(filterCovers(rule, request), expected, `filterCovers(${rule}, ${request})`);
      }),
      { ...options, numRuns: RUNS * 2 },
    );
    t.assertBoth(RUNS / 20);
  });

  it('filtersOverlap(a, b) is true iff some universe topic matches both, and is symmetric', () => {
    const t = tally();
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const expected = refOverlap(a, b);
        t.see(expected);
        assert.equal(filtersOverlap(a, b), expected, `filtersOverlap(${a}, ${b})`);
        assert.equal(filtersOverlap(b, a), expected, `filtersOverlap(${b}, ${a})`);
      }),
      { ...options, numRuns: RUNS * 2 },
    );
    t.assertBoth(RUNS / 20);
  });

  it('exhaustive: filterCovers and filtersOverlap agree with the reference on every pair of filters of 1..3 levels', () => {
    const small = enumerateFilters(3);
    assert.equal(small.length, 185);
    const wrong: string[] = [];
    for (const a of small) {
      for (const b of small) {
        const covers = refCovers(a, b);
        if (filterCovers(a, b) !== covers) wrong.push(`filterCovers(${a}, ${b}) should be ${covers}`);
        const overlap = refOverlap(a, b);
        if (filtersOverlap(a, b) !== overlap) wrong.push(`filtersOverlap(${a}, ${b}) should be ${overlap}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  // Found by the policy property below and the exhaustive sweep above: '/#' matches the topics
  // '/', '/a', '/a/b', ... and its parent level would be the empty string, which is not a topic;
  // '/+/#' and '+/+/#' match all of those, so they cover '/#'. src returns false (fail-closed:
  // a read of '/#' is refused under MCP_READ_TOPICS='+/+/#', and coverage reports 'partial').
  it("filterCovers('/+/#', '/#') and filterCovers('+/+/#', '/#') are true: '/#' cannot match the empty topic", () => {
    assert.equal(refCovers('/+/#', '/#'), true);
    assert.equal(filterCovers('/+/#', '/#'), true);
    assert.equal(filterCovers('+/+/#', '/#'), true);
  });

  it('the known corner cases are in the generators’ reach and decided as the reference says', () => {
    const covers: Array<[string, string]> = [
      ['+/#', '#'],
      ['#', '+/#'],
      ['#', '$s/#'],
      ['+', '$s'],
      ['a/#', 'a'],
      ['+', '#'],
      ['a/+/#', 'a/#'],
      ['/#', '/'],
    ];
    for (const [r, q] of covers) assert.equal(filterCovers(r, q), refCovers(r, q), `covers ${r} ${q}`);
    const overlaps: Array<[string, string]> = [
      ['/#', '+'],
      ['#', '$s'],
      ['+/#', '$s/a'],
      ['$s/#', '$s'],
      ['#', '+'],
      ['a/#', 'a'],
    ];
    for (const [a, b] of overlaps) assert.equal(filtersOverlap(a, b), refOverlap(a, b), `overlap ${a} ${b}`);
  });
});

describe('TopicPolicy decisions follow from matching and coverage', () => {
  const rulesArb = fc.record({
    read: fc.array(filterArb, { minLength: 1, maxLength: 3 }),
    write: fc.array(filterArb, { maxLength: 2 }),
    deny: fc.array(filterArb, { maxLength: 2 }),
  });
  const anyMatch = (rules: readonly string[], topic: string) => rules.some((r) => refMatches(r, topic));

  it('canRead / canWrite / writeTopicProblem per topic', () => {
    fc.assert(
      fc.property(rulesArb, topicArb, (rules, topic) => {
        const policy = new TopicPolicy(rules);
        const denied = anyMatch(rules.deny, topic);
        assert.equal(policy.canRead(topic), anyMatch(rules.read, topic) && !denied);
        assert.equal(policy.canWrite(topic), anyMatch(rules.write, topic) && !denied);
        assert.equal(policy.writeTopicProblem(topic) === undefined, policy.canWrite(topic));
      }),
      options,
    );
  });

  it('readFilterProblem: allowed iff one read rule covers the filter and no deny rule does', () => {
    const t = tally();
    fc.assert(
      fc.property(
        rulesArb,
        fc.oneof(
          filterArb,
          relatedPair.map(([, b]) => b),
        ),
        fc.boolean(),
        (rules, generated, fromRule) => {
          // Half the requests are derived from a read rule, so that allowed requests are common.
          const request = fromRule ? (rules.read[generated.length % rules.read.length] as string) : generated;
          const policy = new TopicPolicy(rules);
          const allowed =
            rules.read.some((r) => refCovers(r, request)) && !rules.deny.some((d) => refCovers(d, request));
          t.see(allowed);
          assert.equal(policy.readFilterProblem(request) === undefined, allowed, `request ${request}`);
          assert.equal(
            policy.overlapsDeny(request),
            rules.deny.some((d) => refOverlap(d, request)),
          );
          if (!allowed) return;
          // What an allowed request can ever deliver: exactly its topics outside the deny rules.
          const topics = matched(request);
          for (let i = 0; i < UNIVERSE.length; i++) {
            if (topics[i] !== 1) continue;
            const topic = UNIVERSE[i] as string;
            assert.equal(policy.canRead(topic), !anyMatch(rules.deny, topic), `${request} -> ${topic}`);
            if (!policy.overlapsDeny(request)) assert.ok(policy.canRead(topic), `${request} -> ${topic}`);
          }
        },
      ),
      options,
    );
    t.assertBoth(RUNS / 20);
  });
});
