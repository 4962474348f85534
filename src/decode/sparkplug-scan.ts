/**
 * A cheap first pass over an NDATA/DDATA payload for the tracker's live path: the `seq` and, per
 * metric, its name or alias and its bytes, without decoding values (the protobufjs decode and the
 * view cost some 15 µs for 20 metrics; this walk well under one). It reads the store's latin1
 * text of the payload (one character per byte) and makes no Buffer (but for text that is not ASCII); a metric is kept as its
 * offsets in that text and decoded when someone reads it (viewMetricBytes in sparkplug.ts).
 *
 * The walk is strict: it answers only for the plain shape (known fields with their own wire types,
 * well-formed varints, lengths inside the buffer, payloads of at most MAX_PLAIN_BYTES, no
 * properties, metadata, datasets or templates, no unknown fields). For anything else it answers
 * undefined and the caller decodes the whole payload as before, so a malformed or unusual payload
 * ends exactly as the full decode ends it (an error counted, or the full view).
 */

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
}

class Columns implements ScannedData {
  seq: number | undefined = undefined;
  count = 0;
  names: Array<string | undefined> = [];
  aliases = new Float64Array(32);
  starts = new Int32Array(32);
  ends = new Int32Array(32);

  push(name: string | undefined, alias: number, start: number, end: number): void {
    const i = this.count++;
    if (i === this.starts.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.aliases = grow(this.aliases, (n) => new Float64Array(n));
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
    }
    this.names[i] = name;
    this.aliases[i] = alias;
    this.starts[i] = start;
    this.ends[i] = end;
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

function scanMetric(start: number, end: number, out: Columns | undefined): void {
  pos = start;
  let name: string | undefined;
  let alias: number | undefined;
  while (pos < end) {
    const tag = varint(end);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (tag > 0xffffffff || field >= METRIC_WIRE.length || METRIC_WIRE[field] !== wire) throw NOT_PLAIN;
    if (field === 1) {
      // Names must come out as the full decode reads them: well-formed UTF-8 only.
      const from = skipString(end);
      // Printable ASCII reads the same in latin1 and UTF-8; anything else is decoded.
      const raw = text.slice(from, pos);
      name = /[^ -~]/.test(raw) ? Buffer.from(raw, 'latin1').toString('utf8') : raw;
    } else if (field === 2) {
      alias = varint(end);
    } else if (field === 15) {
      skipString(end); // string_value: decoded when read, but the full decode refuses it now
    } else {
      skipField(wire, end);
    }
  }
  out?.push(name === '' ? undefined : name, alias ?? -1, start, end);
}
