/**
 * zod -> the JSON Schema a client receives in tools/list, without what costs a model tokens and
 * tells it nothing: the `$schema` URI on every schema, the ±2^53 bounds zod puts on every
 * integer, and (in output schemas, which describe what the bridge itself produces) the
 * `additionalProperties: false` on every object. Input schemas keep theirs: a strict input
 * schema tells the model not to invent arguments.
 *
 * A part of an output schema marked `.meta({ summary: true })` is listed as its type and its
 * description only: a shape repeated in several tools (a broker message) is described once, in
 * words, instead of field by field in every tool.
 */
import { z } from 'zod';

type Json = Record<string, unknown>;

const SAFE = Number.MAX_SAFE_INTEGER;

export function compactJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, { io, target: 'draft-7', unrepresentable: 'any' }) as Json;
  return compact(json, io === 'output') as Json;
}

function compact(value: unknown, output: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => compact(v, output));
  if (value === null || typeof value !== 'object') return value;
  const node = value as Json;
  if (output && node.summary === true) {
    return { type: node.type, ...(node.description !== undefined ? { description: node.description } : {}) };
  }
  const out: Json = {};
  for (const [key, child] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && child === false && output) continue;
    if (node.type === 'integer' && key === 'minimum' && child === -SAFE) continue;
    if (node.type === 'integer' && key === 'maximum' && child === SAFE) continue;
    // Keys of a JSON object are strings anyway; an empty items schema allows anything anyway.
    if (key === 'propertyNames' && isOnly(child, 'string')) continue;
    if ((key === 'items' || key === 'additionalProperties') && isEmpty(child)) continue;
    out[key] = compact(child, output);
  }
  // anyOf of bare types (a string, a number, ...) is one type list.
  const anyOf = out.anyOf;
  if (Array.isArray(anyOf) && anyOf.every((m) => isBareType(m))) {
    delete out.anyOf;
    out.type = anyOf.map((m) => (m as Json).type);
  }
  return out;
}

function isOnly(value: unknown, type: string): boolean {
  return isBareType(value) && (value as Json).type === type;
}

function isEmpty(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length === 0;
}

/** `{ type: 'x' }` and nothing else (an object or array type may keep only empty constraints). */
function isBareType(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'type' && typeof (value as Json).type === 'string';
}
