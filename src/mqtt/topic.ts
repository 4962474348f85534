/**
 * MQTT topic names and filters: validation, matching and filter-vs-filter coverage,
 * with the semantics of MQTT 3.1.1 / 5.0 section 4.7:
 * - `+` matches exactly one level, `#` matches the parent level and every level below it;
 * - a filter starting with a wildcard never matches a topic whose first level starts with `$`;
 * - names and filters are UTF-8, 1..65,535 bytes, without U+0000.
 * Pure functions; no I/O.
 */
import { z } from 'zod';

export const MAX_TOPIC_BYTES = 65_535;

// C0 and C1 control characters; the spec says topics SHOULD NOT contain them, and they are a
// classic way to smuggle terminal escapes into a model's or an operator's view.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Problems common to names and filters; `undefined` when there are none. */
function basicProblem(value: string, what: 'topic' | 'filter'): string | undefined {
  if (value.length === 0) return `${what} must not be empty`;
  if (value.includes('\u0000')) return `${what} must not contain the NUL character (U+0000)`;
  if (LONE_SURROGATE.test(value)) return `${what} must be valid UTF-8 (it contains a lone surrogate)`;
  if (CONTROL_CHARS.test(value)) return `${what} must not contain control characters`;
  // Cheap pre-check: a UTF-8 encoding is at most 3 bytes per UTF-16 code unit.
  if (value.length * 3 > MAX_TOPIC_BYTES && Buffer.byteLength(value, 'utf8') > MAX_TOPIC_BYTES) {
    return `${what} is longer than ${MAX_TOPIC_BYTES} bytes (UTF-8)`;
  }
  return undefined;
}

/** Why a string is not a valid topic name to publish to, or `undefined` if it is valid. */
export function topicNameProblem(topic: string): string | undefined {
  const basic = basicProblem(topic, 'topic');
  if (basic !== undefined) return basic;
  if (topic.includes('+') || topic.includes('#')) {
    return 'topic must not contain the wildcards + or # (publish to one concrete topic)';
  }
  return undefined;
}

/** Why a string is not a valid topic filter, or `undefined` if it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  const basic = basicProblem(filter, 'filter');
  if (basic !== undefined) return basic;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return "filter may use # only as a whole last level (e.g. 'plant/#')";
    }
    if (level.includes('+') && level !== '+') {
      return "filter may use + only as a whole level (e.g. 'plant/+/temp')";
    }
  }
  return undefined;
}

/** A topic or filter quoted for a message: JSON-escaped (controls visible) and cut at 200 characters. */
export function quoteTopic(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
}

export function isWildcardFilter(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** Does `filter` (assumed valid) match the concrete `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  return matchLevels(filter.split('/'), topic.split('/'));
}

function matchLevels(f: readonly string[], t: readonly string[]): boolean {
  const n = f.length;
  for (let i = 0; i < n; i++) {
    const level = f[i];
    if (level === '#') return true; // matches the parent level too (i === t.length)
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return n === t.length;
}

/**
 * Does the `rule` filter cover every topic the `request` filter can match?
 * Both are valid filters. A `+` rule does not cover a `#` request; a `#` rule covers
 * neither `$` topics nor a request for them.
 */
export function filterCovers(rule: string, request: string): boolean {
  if (rule === request) return true;
  const r = rule.split('/');
  const q = request.split('/');
  const dollarRequest = (q[0] ?? '').startsWith('$');
  for (let i = 0; ; i++) {
    const rl = r[i];
    const ql = q[i];
    if (rl === '#') return !(i === 0 && dollarRequest);
    if (rl === undefined) return ql === undefined;
    if (ql === undefined) return false; // the request ends; the rule needs more levels
    if (ql === '#') {
      // A '#' request matches its parent level too, so the rule would have to match the parent;
      // but where the parent is no topic (at the root, or the empty string under '/#'), a rule
      // ending in '+/#' at this level matches exactly the rest.
      const noParent = i === 0 || (i === 1 && q[0] === '');
      return noParent && rl === '+' && r.length === i + 2 && r[i + 1] === '#';
    }
    if (rl === '+') {
      if (i === 0 && dollarRequest) return false;
      continue; // '+' covers '+' and any literal
    }
    if (ql === '+' || rl !== ql) return false;
  }
}

/**
 * Can some topic match both filters? Used to decide whether a request touches a denied area.
 */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  const xDollar = !isWild(x[0]) && (x[0] ?? '').startsWith('$');
  const yDollar = !isWild(y[0]) && (y[0] ?? '').startsWith('$');
  // A wildcard first level never matches a `$` topic.
  if ((xDollar && isWild(y[0])) || (yDollar && isWild(x[0]))) return false;
  for (let i = 0; ; i++) {
    const xl = x[i];
    const yl = y[i];
    if (xl === '#' || yl === '#') {
      // When one filter ends where the other has '#', the only common topic is the parent
      // (the first i levels); at i = 1 with an empty first level that is "", not a topic.
      const ended = xl === undefined || yl === undefined;
      return !(ended && i === 1 && (x[0] === '' || y[0] === ''));
    }
    if (xl === undefined || yl === undefined) return xl === yl;
    if (xl !== '+' && yl !== '+' && xl !== yl) return false;
  }
}

function isWild(level: string | undefined): boolean {
  return level === '+' || level === '#';
}

// ---- shared zod schemas (config, tool inputs, tests) ----

export const TopicNameSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = topicNameProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('A concrete MQTT topic, no wildcards, e.g. "plant/line1/pump/cmd"');

export const TopicFilterSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = topicFilterProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('An MQTT topic filter; + is one level, # is the rest, e.g. "plant/+/temp" or "plant/#"');

export const QosSchema = z.union([z.literal(0), z.literal(1), z.literal(2)]);
export type Qos = z.infer<typeof QosSchema>;
