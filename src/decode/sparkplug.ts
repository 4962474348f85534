/**
 * Sparkplug B payloads (the only importer of protobufjs): the strict topic namespace, decoding
 * with limits, the BIRTH certificate a payload declares, and the view a model reads, with metric
 * names and data types taken from the BIRTH that declared the aliases.
 *
 * Decoding is bounded: a payload larger than the caller's limit is not decoded; protobufjs itself
 * refuses nesting deeper than 100 (as protoc does) and lengths past the buffer; the view keeps at
 * most `maxMetrics` metrics, `maxElements` array elements and dataset rows, and `maxDepth` levels
 * of templates, counting what it leaves out. Values: signed integers carried in the unsigned
 * protobuf fields come out signed (by the BIRTH's data type), 64-bit values beyond 2^53 as decimal
 * strings, DateTime as ISO 8601, bytes as base64.
 */
import protobuf from 'protobufjs';
import { DATATYPES, SPARKPLUG_SCHEMA, intOfType } from './sparkplug-schema.js';

const root = protobuf.Root.fromJSON(SPARKPLUG_SCHEMA satisfies protobuf.INamespace);
const PayloadType = root.lookupType('Payload');
const MetricType = root.lookupType('Payload.Metric');

export const MESSAGE_TYPES = [
  'NBIRTH',
  'NDATA',
  'NDEATH',
  'DBIRTH',
  'DDATA',
  'DDEATH',
  'NCMD',
  'DCMD',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface SparkplugTopic {
  readonly group: string;
  readonly type: MessageType;
  readonly edge: string;
  readonly device: string | undefined;
}

/**
 * `spBv1.0/{group}/{type}/{edge}[/{device}]` with a device exactly for the D* types; anything else
 * (including `spBv1.0/STATE/{host}`, whose payload is JSON in Sparkplug 3.0) is undefined.
 */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  if (!topic.startsWith('spBv1.0/')) return undefined;
  const levels = topic.split('/');
  if (levels.length !== 4 && levels.length !== 5) return undefined;
  const [, group, type, edge, device] = levels as [string, string, string, string, string | undefined];
  if (!(MESSAGE_TYPES as readonly string[]).includes(type)) return undefined;
  if (group === '' || edge === '' || device === '') return undefined;
  if (type.startsWith('D') ? device === undefined : device !== undefined) return undefined;
  return { group, type: type as MessageType, edge, device };
}

export class SparkplugDecodeError extends Error {}

/** 64-bit fields, as decimal text (protobufjs toObject with longs: String). */
type Wide = string;

interface RawMetric {
  name?: string;
  alias?: Wide;
  timestamp?: Wide;
  datatype?: number;
  isHistorical?: boolean;
  isTransient?: boolean;
  isNull?: boolean;
  properties?: RawPropertySet;
  intValue?: number;
  longValue?: Wide;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
  bytesValue?: Uint8Array;
  datasetValue?: {
    columns?: string[];
    types?: number[];
    rows?: Array<{ elements?: RawScalar[] }>;
  };
  templateValue?: {
    version?: string;
    metrics?: RawMetric[];
    parameters?: Array<RawScalar & { name?: string; type?: number }>;
    templateRef?: string;
    isDefinition?: boolean;
  };
  value?: string;
}

interface RawScalar {
  intValue?: number;
  longValue?: Wide;
  floatValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  stringValue?: string;
  value?: string;
}

interface RawPropertySet {
  keys?: string[];
  values?: Array<RawScalar & { type?: number; isNull?: boolean }>;
}

export interface RawPayload {
  readonly timestamp?: Wide;
  readonly metrics?: RawMetric[];
  readonly seq?: Wide;
  readonly uuid?: string;
  readonly body?: Uint8Array;
}

/** Decode the protobuf of a Sparkplug payload; SparkplugDecodeError when it is not one. */
export function decodeSparkplug(bytes: Uint8Array, maxBytes: number): RawPayload {
  if (bytes.byteLength > maxBytes)
    throw new SparkplugDecodeError(
      `payload of ${bytes.byteLength} bytes is over the ${maxBytes}-byte decode limit`,
    );
  try {
    // A plain object with only the fields present (decoded messages carry defaults on their
    // prototype), 64-bit fields as decimal text, and each oneof's set member named in `value`.
    const object: RawPayload = PayloadType.toObject(PayloadType.decode(bytes), {
      longs: String,
      defaults: false,
      oneofs: true,
    });
    return object;
  } catch (error) {
    const message = error instanceof Error ? error.message : 'not a Sparkplug B payload';
    throw new SparkplugDecodeError(`not a Sparkplug B payload (${message.slice(0, 120)})`);
  }
}

/** Encode a payload (for the bridge's own NCMD, e.g. a rebirth request). */
export function encodeSparkplug(payload: {
  timestamp: number;
  metrics: Array<{ name: string; datatype: number; booleanValue?: boolean; timestamp?: number }>;
}): Buffer {
  const message = PayloadType.fromObject(payload);
  return Buffer.from(PayloadType.encode(message).finish());
}

/** What a BIRTH declares: metric names and data types, by alias and by name. */
export interface Birth {
  readonly byAlias: ReadonlyMap<string, { readonly name: string; readonly datatype: number }>;
  /** The same by the alias as a number (aliases up to 2^53; the DATA walk reads them so). */
  readonly byAliasNumber: ReadonlyMap<number, { readonly name: string; readonly datatype: number }>;
  readonly datatypes: ReadonlyMap<string, number>;
  readonly bdSeq: string | undefined;
}

export function birthOf(payload: RawPayload, maxMetrics: number): Birth {
  const byAlias = new Map<string, { name: string; datatype: number }>();
  const byAliasNumber = new Map<number, { name: string; datatype: number }>();
  const datatypes = new Map<string, number>();
  let bdSeq: string | undefined;
  for (const metric of (payload.metrics ?? []).slice(0, maxMetrics)) {
    if (metric.name === undefined || metric.name === '') continue;
    const datatype = metric.datatype ?? 0;
    datatypes.set(metric.name, datatype);
    if (metric.alias !== undefined) {
      const alias = wideString(metric.alias);
      const entry = { name: metric.name, datatype };
      byAlias.set(alias, entry);
      const n = Number(alias);
      if (Number.isSafeInteger(n)) byAliasNumber.set(n, entry);
    }
    if (metric.name === 'bdSeq') bdSeq = scalarText(scalarOf(metric, datatype === 0 ? 8 : datatype));
  }
  return { byAlias, byAliasNumber, datatypes, bdSeq };
}

/** The bdSeq metric of an NDEATH (or undefined). */
export function bdSeqOf(payload: RawPayload): string | undefined {
  const metric = (payload.metrics ?? []).find((m) => m.name === 'bdSeq');
  return metric === undefined ? undefined : scalarText(scalarOf(metric, metric.datatype ?? 8));
}

export function seqOf(payload: RawPayload): number | undefined {
  return payload.seq === undefined ? undefined : Number(wideString(payload.seq));
}

export interface ViewLimits {
  readonly maxMetrics: number;
  readonly maxElements: number;
  readonly maxDepth: number;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface MetricView {
  name?: string;
  alias?: number | string;
  datatype?: string;
  value: JsonValue;
  timestamp?: string;
  unresolved?: true;
  isNull?: true;
  historical?: true;
  transient?: true;
  properties?: Record<string, JsonValue>;
  omitted?: number;
}

export interface PayloadView {
  timestamp?: string;
  seq?: number;
  metrics: MetricView[];
  uuid?: string;
  body?: string;
  /** Metrics left out by the limit. */
  omittedMetrics?: number;
}

/** The model's view of a payload, names and data types from the BIRTH in effect (if any). */
export function viewSparkplug(
  payload: RawPayload,
  birth: Birth | undefined,
  limits: ViewLimits,
): PayloadView {
  const all = payload.metrics ?? [];
  const metrics = all.slice(0, limits.maxMetrics).map((m) => metricView(m, birth, limits, 0));
  const view: PayloadView = { metrics };
  if (payload.timestamp !== undefined) view.timestamp = isoOf(payload.timestamp);
  const seq = seqOf(payload);
  if (seq !== undefined) view.seq = seq;
  if (payload.uuid !== undefined && payload.uuid !== '') view.uuid = payload.uuid;
  if (payload.body !== undefined && payload.body.byteLength > 0)
    view.body = Buffer.from(payload.body.subarray(0, limits.maxElements)).toString('base64');
  if (all.length > metrics.length) view.omittedMetrics = all.length - metrics.length;
  return view;
}

/**
 * The view of one metric from its own protobuf bytes (as sparkplug-scan.ts found them), the same
 * as its entry in viewSparkplug of the whole payload.
 */
export function viewMetricBytes(bytes: Uint8Array, birth: Birth | undefined, limits: ViewLimits): MetricView {
  const raw = MetricType.toObject(MetricType.decode(bytes), { longs: String, defaults: false, oneofs: true });
  return metricView(raw, birth, limits, 0);
}

function metricView(
  metric: RawMetric,
  birth: Birth | undefined,
  limits: ViewLimits,
  depth: number,
): MetricView {
  const alias = metric.alias === undefined ? undefined : wideString(metric.alias);
  const declared = alias === undefined ? undefined : birth?.byAlias.get(alias);
  const name = metric.name !== undefined && metric.name !== '' ? metric.name : declared?.name;
  const datatype =
    declared?.datatype ?? (name !== undefined ? birth?.datatypes.get(name) : undefined) ?? metric.datatype;
  const view: MetricView = { value: null };
  if (name !== undefined) view.name = name;
  if (alias !== undefined) view.alias = safeNumber(BigInt(alias));
  if (name === undefined) view.unresolved = true;
  if (datatype !== undefined && datatype !== 0) view.datatype = DATATYPES[datatype] ?? `type ${datatype}`;
  if (metric.timestamp !== undefined) view.timestamp = isoOf(metric.timestamp);
  if (metric.isHistorical === true) view.historical = true;
  if (metric.isTransient === true) view.transient = true;
  if (metric.isNull === true) {
    view.isNull = true;
  } else {
    const value = valueOf(metric, datatype, limits, depth, birth);
    view.value = value.value;
    if (value.omitted > 0) view.omitted = value.omitted;
  }
  if (metric.properties !== undefined) {
    const props = propertiesOf(metric.properties, limits);
    if (Object.keys(props).length > 0) view.properties = props;
  }
  return view;
}

/** The metric's value by data type; when the type is unknown, by the oneof field that is set. */
function valueOf(
  metric: RawMetric,
  datatype: number | undefined,
  limits: ViewLimits,
  depth: number,
  birth: Birth | undefined,
): { value: JsonValue; omitted: number } {
  const type = datatype ?? 0;
  if (type >= 22 && type <= 34 && metric.bytesValue !== undefined)
    return arrayOf(metric.bytesValue, type, limits);
  if (metric.bytesValue !== undefined) {
    const bytes = Buffer.from(metric.bytesValue);
    const shown = bytes.subarray(0, limits.maxElements);
    return { value: shown.toString('base64'), omitted: bytes.byteLength - shown.byteLength };
  }
  if (metric.datasetValue !== undefined) return datasetOf(metric.datasetValue, limits);
  if (metric.templateValue !== undefined) {
    const t = metric.templateValue;
    if (depth >= limits.maxDepth) return { value: '[template nested too deep]', omitted: 1 };
    const inner = (t.metrics ?? []).slice(0, limits.maxMetrics);
    const out: { [key: string]: JsonValue } = {
      metrics: inner.map((m) => metricView(m, birth, limits, depth + 1) as unknown as JsonValue),
    };
    if (t.templateRef !== undefined && t.templateRef !== '') out.templateRef = t.templateRef;
    if (t.version !== undefined && t.version !== '') out.version = t.version;
    if (t.isDefinition === true) out.isDefinition = true;
    if (t.parameters !== undefined && t.parameters.length > 0) {
      const params: { [key: string]: JsonValue } = {};
      for (const p of t.parameters.slice(0, limits.maxElements))
        params[p.name ?? ''] = scalarOf(p, p.type ?? 0);
      out.parameters = params;
    }
    return { value: out, omitted: (t.metrics?.length ?? 0) - inner.length };
  }
  return { value: scalarOf(metric, type), omitted: 0 };
}

/** A scalar by data type: signed integers from the unsigned fields, wide values exactly. */
function scalarOf(raw: RawScalar, type: number): JsonValue {
  if (raw.intValue !== undefined && (raw.value === undefined || raw.value === 'intValue'))
    return intOfType(raw.intValue, type);
  if (raw.longValue !== undefined) {
    const unsigned = BigInt.asUintN(64, BigInt(wideString(raw.longValue)));
    if (type === 13) return dateText(Number(unsigned));
    return safeNumber(type === 4 ? BigInt.asIntN(64, unsigned) : unsigned);
  }
  if (raw.floatValue !== undefined) return finite(raw.floatValue);
  if (raw.doubleValue !== undefined) return finite(raw.doubleValue);
  if (raw.booleanValue !== undefined) return raw.booleanValue;
  if (raw.stringValue !== undefined) return raw.stringValue;
  return null;
}

/** The Sparkplug 3.0 array types, packed little-endian in bytes_value. */
function arrayOf(value: Uint8Array, type: number, limits: ViewLimits): { value: JsonValue; omitted: number } {
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const out: JsonValue[] = [];
  let total = 0;
  const fixed = (size: number, read: (offset: number) => JsonValue) => {
    total = Math.floor(bytes.byteLength / size);
    for (let i = 0; i < total && out.length < limits.maxElements; i++) out.push(read(i * size));
  };
  switch (type) {
    case 22:
      fixed(1, (o) => bytes.readInt8(o));
      break;
    case 23:
      fixed(2, (o) => bytes.readInt16LE(o));
      break;
    case 24:
      fixed(4, (o) => bytes.readInt32LE(o));
      break;
    case 25:
      fixed(8, (o) => safeNumber(bytes.readBigInt64LE(o)));
      break;
    case 26:
      fixed(1, (o) => bytes.readUInt8(o));
      break;
    case 27:
      fixed(2, (o) => bytes.readUInt16LE(o));
      break;
    case 28:
      fixed(4, (o) => bytes.readUInt32LE(o));
      break;
    case 29:
      fixed(8, (o) => safeNumber(bytes.readBigUInt64LE(o)));
      break;
    case 30:
      fixed(4, (o) => finite(bytes.readFloatLE(o)));
      break;
    case 31:
      fixed(8, (o) => finite(bytes.readDoubleLE(o)));
      break;
    case 32: {
      // A 4-byte count, then the values bit-packed, most significant bit first.
      const count = bytes.byteLength >= 4 ? bytes.readUInt32LE(0) : 0;
      total = Math.min(count, (bytes.byteLength - 4) * 8);
      for (let i = 0; i < total && out.length < limits.maxElements; i++)
        out.push(((bytes[4 + (i >> 3)] ?? 0) & (0x80 >> (i & 7))) !== 0);
      break;
    }
    case 33: {
      let start = 0;
      for (let i = 0; i < bytes.byteLength; i++) {
        if (bytes[i] !== 0) continue;
        total++;
        if (out.length < limits.maxElements) out.push(bytes.toString('utf8', start, i));
        start = i + 1;
      }
      break;
    }
    case 34:
      fixed(8, (o) => dateText(Number(bytes.readBigInt64LE(o))));
      break;
    default:
      break;
  }
  return { value: out, omitted: total - out.length };
}

function datasetOf(
  dataset: NonNullable<RawMetric['datasetValue']>,
  limits: ViewLimits,
): { value: JsonValue; omitted: number } {
  const types = dataset.types ?? [];
  const rows = dataset.rows ?? [];
  const shown = rows
    .slice(0, limits.maxElements)
    .map((row) =>
      (row.elements ?? []).slice(0, limits.maxElements).map((cell, i) => scalarOf(cell, types[i] ?? 0)),
    );
  return {
    value: {
      columns: (dataset.columns ?? []).slice(0, limits.maxElements),
      types: types.slice(0, limits.maxElements).map((t) => DATATYPES[t] ?? `type ${t}`),
      rows: shown,
    },
    omitted: rows.length - shown.length,
  };
}

function propertiesOf(set: RawPropertySet, limits: ViewLimits): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  const keys = set.keys ?? [];
  const values = set.values ?? [];
  for (let i = 0; i < Math.min(keys.length, values.length, limits.maxElements); i++) {
    const value = values[i];
    if (value === undefined || value.isNull === true) continue;
    out[keys[i] as string] = scalarOf(value, value.type ?? 0);
  }
  return Object.fromEntries(Object.entries(out));
}

/** bdSeq and the like: a number or decimal text, as text. */
function scalarText(value: JsonValue): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : JSON.stringify(value);
}

function wideString(value: Wide | number): string {
  return String(value);
}

/** A 64-bit integer: a JSON number when exact, else its decimal text. */
function safeNumber(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

function finite(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function isoOf(value: Wide): string {
  return dateText(Number(BigInt.asUintN(64, BigInt(wideString(value)))));
}

/** Milliseconds since the epoch as ISO 8601; beyond the range of a Date, the number as text. */
function dateText(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
