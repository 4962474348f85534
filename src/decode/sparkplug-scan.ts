/**
 * A cheap first pass over an NDATA/DDATA payload for the tracker's live path and the history
 * writer's numeric series (scalarNumber): the `seq` and, per metric, its name or alias, its
 * datatype, where its value is and its bytes, without decoding values (the protobufjs decode and
 * the view cost some 15 µs for 20 metrics; this walk well under one). It reads the store's latin1
 * text of the payload (one character per byte) and makes no Buffer (but for text that is not
 * ASCII); a metric is kept as its offsets in that text and decoded when someone reads it
 * (viewMetricBytes in sparkplug.ts).
 *
 * The walk is strict: it answers only for the plain shape (known fields with their own wire types,
 * well-formed varints, lengths inside the buffer, payloads of at most MAX_PLAIN_BYTES, no
 * properties, metadata, datasets or templates, no unknown fields). For anything else it answers
 * undefined and the caller decodes the whole payload as before, so a malformed or unusual payload
 * ends exactly as the full decode ends it (an error counted, or the full view).
 */

import { intOfType } from './sparkplug-schema.js';

/**
 * Larger payloads are decoded at once: a lazy metric keeps the text of its payload alive until it
 * is read or replaced, so this bounds what the metrics kept (SparkplugLimits.metrics) can hold.
 */
export const MAX_PLAIN_BYTES = 1024;

/**
 * The walk's answer, by column, in arrays the walk reuses: valid until the next scanData call
 * (the tracker reads it at once), so a DATA message costs no object per metric.
 */
export interface ScannedData {
  readonly seq: number | undefined;
  /** Metrics read: the first `maxMetrics` of the payload. */
  readonly count: number;
  /** Per metric: its own name when it carries one (not empty), else undefined. */
  readonly names: ReadonlyArray<string | undefined>;
  /** Per metric: the alias (below 2^53: larger is not plain), or -1 for none. */
  readonly aliases: Float64Array;
  /** Per metric: where its protobuf bytes are in the payload text, [start, end). */
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** Per metric: its own datatype field (as protobuf reads a uint32), or -1 for none. */
  readonly datatypes: Float64Array;
  /**
   * Per metric: the value field it carries (10 int, 11 long, 12 float, 13 double, 14 boolean, 15
   * string, 16 bytes), 0 for none, -1 for more than one; its bytes start at `valueAt` (after the
   * tag). A metric with is_null set is 7.
   */
  readonly valueFields: Int8Array;
  readonly valueAt: Int32Array;
}

class Columns implements ScannedData {
  seq: number | undefined = undefined;
  count = 0;
  names: Array<string | undefined> = [];
  aliases = new Float64Array(32);
  starts = new Int32Array(32);
  ends = new Int32Array(32);
  datatypes = new Float64Array(32);
  valueFields = new Int8Array(32);
  valueAt = new Int32Array(32);

  push(name: string | undefined, alias: number, start: number, end: number, m: MetricFields): void {
    const i = this.count++;
    if (i === this.starts.length) {
      const grow = <T extends Float64Array | Int32Array | Int8Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.aliases = grow(this.aliases, (n) => new Float64Array(n));
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
      this.datatypes = grow(this.datatypes, (n) => new Float64Array(n));
      this.valueFields = grow(this.valueFields, (n) => new Int8Array(n));
      this.valueAt = grow(this.valueAt, (n) => new Int32Array(n));
    }
    this.names[i] = name;
    this.aliases[i] = alias;
    this.starts[i] = start;
    this.ends[i] = end;
    this.datatypes[i] = m.datatype;
    this.valueFields[i] = m.isNull ? 7 : m.valueField;
    this.valueAt[i] = m.valueAt;
  }
}

const columns = new Columns();

const TWO_53 = 2 ** 53;

/** Wire types by field number (-1: not plain): Payload, and Metric without its nested messages. */
const PAYLOAD_WIRE = Int8Array.from([-1, 0, 2, 0, 2, 2]);
const METRIC_WIRE = Int8Array.from([-1, 2, 0, 0, 0, 0, 0, 0, -1, -1, 0, 0, 5, 1, 0, 2, 2]);

class NotPlain extends Error {}
const NOT_PLAIN = new NotPlain();

// The walk's state (one walk at a time, synchronous).
let text = '';
let pos = 0;

/** A varint as a number; NOT_PLAIN when malformed, past `end`, or not exact in a double. */
function varint(end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 9; i++) {
    if (pos >= end) throw NOT_PLAIN;
    const b = text.charCodeAt(pos++);
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (value >= TWO_53) throw NOT_PLAIN;
      return value;
    }
    scale *= 128;
  }
  throw NOT_PLAIN;
}

/** A uint32 or bool field's varint as protobufjs reads it: its low 32 bits. */
function varint32(end: number): number {
  return varint(end) % 2 ** 32;
}

function skip(n: number, end: number): void {
  if (n > end - pos) throw NOT_PLAIN;
  pos += n;
}

/**
 * A string field, skipped; NOT_PLAIN unless it is well-formed UTF-8 (the full decode refuses the
 * payload otherwise). Returns its text as latin1 offsets.
 */
function skipString(end: number): number {
  const length = varint(end);
  const from = pos;
  skip(length, end);
  for (let i = from; i < pos; i++) {
    if (text.charCodeAt(i) < 0x80) continue;
    // Not ASCII: decode it as the full decode does; U+FFFD marks a malformed sequence (a real
    // U+FFFD in the text also ends the walk, and the full decode then answers).
    if (Buffer.from(text.slice(from, pos), 'latin1').toString('utf8').includes('\uFFFD')) throw NOT_PLAIN;
    break;
  }
  return from;
}

function skipField(wire: number, end: number): void {
  if (wire === 0) varint(end);
  else if (wire === 1) skip(8, end);
  else if (wire === 5) skip(4, end);
  else skip(varint(end), end);
}

/**
 * The plain shape of a DATA payload given as latin1 text, or undefined when it is not plain
 * (decode it in full then). `maxBytes` is the decode limit (a larger payload is not plain).
 */
export function scanData(data: string, maxBytes: number, maxMetrics: number): ScannedData | undefined {
  const out = columns;
  out.count = 0;
  out.names.length = 0;
  if (!walkPayload(data, maxBytes, out, maxMetrics)) return undefined;
  out.seq = walked.seq;
  return out;
}

/** What walkData found (valid until the next call). */
export interface WalkedData {
  readonly seq: number | undefined;
  /**
   * Every metric's first field is its alias. Encoders write fields in field-number order, so
   * such a message carries no metric names of its own: its metrics are the BIRTH's, by alias.
   */
  readonly aliasLed: boolean;
}

const walked = { seq: undefined as number | undefined, aliasLed: true };

/**
 * A cheaper walk than scanData, for the tracker's live path: the payload's own fields (seq; a
 * uuid must be well-formed UTF-8) and each metric's length and first byte, not the metrics'
 * fields. Undefined when the payload is not of the plain shape at that level (decode it in full
 * then); scanData reads the metrics later, and may still find them not plain.
 */
export function walkData(data: string, maxBytes: number): WalkedData | undefined {
  return walkPayload(data, maxBytes, undefined, 0) ? walked : undefined;
}

/**
 * The payload's own fields into `walked`; each metric scanned into `out` (its first `maxMetrics`),
 * or, without `out`, only its first byte looked at. False when not plain.
 */
function walkPayload(data: string, maxBytes: number, out: Columns | undefined, maxMetrics: number): boolean {
  if (data.length > Math.min(maxBytes, MAX_PLAIN_BYTES)) return false;
  text = data;
  pos = 0;
  const end = data.length;
  let seq: number | undefined;
  let aliasLed = true;
  let total = 0;
  try {
    while (pos < end) {
      const tag = varint(end);
      const field = tag >>> 3;
      const wire = tag & 7;
      if (tag > 0xffffffff || field >= PAYLOAD_WIRE.length || PAYLOAD_WIRE[field] !== wire) return false;
      if (field === 3) {
        seq = varint(end);
      } else if (field === 4) {
        skipString(end); // uuid
      } else if (field === 2) {
        const length = varint(end);
        const start = pos;
        if (length === 0 || text.charCodeAt(pos) !== ALIAS_TAG) aliasLed = false;
        skip(length, end);
        // Every metric is walked (a malformed one makes the payload not plain); the first are kept.
        if (out !== undefined) scanMetric(start, pos, total++ < maxMetrics ? out : undefined);
      } else {
        skipField(wire, end);
      }
    }
  } catch (error) {
    if (error instanceof NotPlain) return false;
    throw error;
  } finally {
    text = '';
  }
  walked.seq = seq;
  walked.aliasLed = aliasLed;
  return true;
}

/** Metric field 2 (alias), wire type 0. */
const ALIAS_TAG = (2 << 3) | 0;

/** What scanMetric read of a metric's datatype and value besides its name and alias (reused). */
interface MetricFields {
  datatype: number;
  isNull: boolean;
  valueField: number;
  valueAt: number;
}

const metricFields: MetricFields = { datatype: -1, isNull: false, valueField: 0, valueAt: 0 };

function scanMetric(start: number, end: number, out: Columns | undefined): void {
  pos = start;
  let name: string | undefined;
  let alias: number | undefined;
  const m = metricFields;
  m.datatype = -1;
  m.isNull = false;
  m.valueField = 0;
  m.valueAt = 0;
  while (pos < end) {
    const tag = varint(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (tag > 0xffffffff || field >= METRIC_WIRE.length || METRIC_WIRE[field] !== wire) throw NOT_PLAIN;
    if (field >= 10) {
      // A value field (10-16): one per metric, else -1 (the full decode settles which one counts).
      m.valueField = m.valueField === 0 ? field : -1;
      m.valueAt = pos;
    }
    if (field === 1) {
      // Names must come out as the full decode reads them: well-formed UTF-8 only.
      const from = skipString(end);
      // Printable ASCII reads the same in latin1 and UTF-8; anything else is decoded.
      const raw = text.slice(from, pos);
      name = /[^ -~]/.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
    } else if (field === 2) {
      alias = varint(end);
    } else if (field === 4) {
      m.datatype = varint32(end);
    } else if (field === 7) {
      m.isNull = varint32(end) !== 0;
    } else if (field === 15) {
      skipString(end); // string_value: decoded when read, but the full decode refuses it now
    } else {
      skipField(wire, end);
    }
  }
  out?.push(name === '' ? undefined : name, alias ?? -1, start, end, m);
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * The number a plain scalar value field of a scanned metric carries, as the full decode and view
 * give it: `field` 10 (uint32 int_value; Int8, Int16 and Int32 signed by `datatype`), 11
 * (long_value, below 2^53 as the walk found it; a DateTime gives no number), 12 (float), 13
 * (double), 14 (boolean, 0 or 1). Undefined for anything else, and for a value that is not finite.
 */
export function scalarNumber(data: string, field: number, at: number, datatype: number): number | undefined {
  if (field === 10 || field === 11 || field === 14) {
    text = data;
    pos = at;
    let v: number;
    try {
      v = field === 11 ? varint(data.length) : varint32(data.length);
    } finally {
      text = '';
    }
    if (field === 14) return v !== 0 ? 1 : 0;
    if (field === 11) return datatype === 13 ? undefined : v;
    return intOfType(v, datatype);
  }
  if (field !== 12 && field !== 13) return undefined;
  const n = field === 12 ? 4 : 8;
  for (let k = 0; k < n; k++) scratch.setUint8(k, data.charCodeAt(at + k));
  const value = field === 12 ? scratch.getFloat32(0, true) : scratch.getFloat64(0, true);
  return Number.isFinite(value) ? value : undefined;
}
