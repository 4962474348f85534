/**
 * A payload that is JSON, shown to a model as the JSON value itself instead of an escaped string
 * inside the result's JSON: fewer tokens and nothing to unescape. Only when that loses nothing:
 * - integers beyond 2^53 would change (JSON.parse makes doubles of them): such payloads stay text;
 * - duplicate object keys would collapse (JSON.parse keeps the last): the payload stays text;
 * - nesting deeper than MAX_DEPTH stays text (the result is serialised again later);
 * - strings (keys and values) are neutralised like every other broker text; when that makes two
 *   keys of one object equal, the payload stays text.
 * Linear in the payload; only called for payloads already cut to the per-message cap.
 */
import { neutralize } from './neutralize.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const MAX_DEPTH = 64;

/** The JSON value of `text`, or undefined when it is not JSON or would not round-trip without loss. */
export function jsonPayload(text: string): JsonValue | undefined {
  const first = firstSignificant(text);
  if (first === -1) return undefined;
  const c = text.charCodeAt(first);
  // { [ " - 0-9 t f n: anything else cannot start a JSON text (skip the parse for plain words).
  if (!(
    c === 123 ||
    c === 91 ||
    c === 34 ||
    c === 45 ||
    (c >= 48 && c <= 57) ||
    c === 116 ||
    c === 102 ||
    c === 110
  ))
    return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const count = { members: 0 };
  const out = rebuild(value, 0, count);
  return out !== undefined && count.members === countMembers(text) ? out : undefined;
}

function firstSignificant(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return i;
  }
  return -1;
}

/** Object members in a valid JSON text: the ':' characters outside strings. */
function countMembers(text: string): number {
  let n = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 58) n++;
  }
  return n;
}

/**
 * A neutralised copy of a JSON value built by the bridge from broker data (a decoded Sparkplug
 * payload): every key and string neutralised; undefined when that would lose something.
 */
export function neutralizeJson(value: unknown): JsonValue | undefined {
  return rebuild(value, 0, { members: 0 });
}

/** A neutralised copy; undefined when something would be lost. Counts the object members it keeps. */
function rebuild(value: unknown, depth: number, count: { members: number }): JsonValue | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number')
    return Number.isInteger(value) && !Number.isSafeInteger(value) ? undefined : value;
  if (typeof value === 'string') return neutralize(value);
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    for (const item of value) {
      const r = rebuild(item, depth + 1, count);
      if (r === undefined) return undefined;
      items.push(r);
    }
    return items;
  }
  const entries: Array<[string, JsonValue]> = [];
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const r = rebuild(item, depth + 1, count);
    if (r === undefined) return undefined;
    entries.push([neutralize(key), r]);
  }
  count.members += entries.length;
  // Object.fromEntries defines own properties: a "__proto__" key stays a key.
  const object: { [key: string]: JsonValue } = Object.fromEntries(entries);
  return Object.keys(object).length === entries.length ? object : undefined;
}
