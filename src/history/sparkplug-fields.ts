/**
 * Numeric fields of Sparkplug B payloads, by metric name: a BIRTH names its metrics (and their
 * aliases), a DATA carries aliases only, so the writer keeps each node's and device's last BIRTH
 * (bounded) and names DATA metrics from it; after a restart the last recorded BIRTH is looked up
 * once. Numbers and booleans (0/1) become points, so mqtt_summarize and mqtt_find_silent work on
 * Sparkplug metrics by name. Runs in the history worker, off the ingest path.
 */
import {
  birthOf,
  decodeSparkplug,
  parseSparkplugTopic,
  viewSparkplug,
  type Birth,
  type SparkplugTopic,
} from '../decode/sparkplug.js';
import { scalarNumber, scanData } from '../decode/sparkplug-scan.js';
import type { NumericField } from './numeric.js';

const MAX_BIRTHS = 10_000;
/** A BIRTH looked up and not found is looked up again after this long (another writer may record it). */
const RETRY_MS = 10_000;
const DECODE_BYTES = 1024 * 1024;
const LIMITS = { maxMetrics: 1000, maxElements: 0, maxDepth: 1 };

/**
 * The named metrics of a decoded payload that are numbers (or booleans, as 0/1, or 64-bit integers
 * shown as decimal text), as fields by metric name; unresolved aliases are left out.
 */
export function numericMetrics(
  metrics: ReadonlyArray<{ readonly name?: string; readonly value?: unknown }>,
  maxFields: number,
): NumericField[] {
  const out: NumericField[] = [];
  for (const m of metrics) {
    if (out.length >= maxFields) break;
    if (m.name === undefined) continue;
    const v = m.value;
    const value = typeof v === 'boolean' ? Number(v) : typeof v === 'string' ? Number(v) : v;
    if (typeof value === 'number' && Number.isFinite(value)) out.push({ field: m.name, value });
  }
  return out;
}

export class SparkplugFields {
  /** Last BIRTH per `group/edge[/device]`, least recently used first. */
  private readonly births = new Map<string, Birth>();

  /** Keys whose BIRTH was looked up and not found: when (for needed()). */
  private readonly missing = new Map<string, number>();

  /**
   * @param lastBirth the last recorded payload of a BIRTH topic (latin1), for keys not seen yet
   * (a synchronous store: SQLite). A writer whose store answers asynchronously (PostgreSQL) passes
   * none and asks needed() before a batch, then seed()s what it found.
   */
  constructor(
    private readonly lastBirth: (topic: string) => string | undefined = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The BIRTH topics a batch needs and this writer does not know: one per node or device of its
   * DATA whose BIRTH was neither seen nor looked up in the last RETRY_MS (at most `max`).
   */
  needed(records: Iterable<{ readonly topic: string }>, max = 1000): string[] {
    const out = new Set<string>();
    const now = this.now();
    for (const { topic } of records) {
      if (out.size >= max) break;
      if (!topic.startsWith('spBv1.0/')) continue;
      const t = parseSparkplugTopic(topic);
      if (t === undefined || (t.type !== 'NDATA' && t.type !== 'DDATA')) continue;
      const key = keyOf(t);
      if (this.births.has(key)) continue;
      const tried = this.missing.get(key);
      if (tried !== undefined && now - tried < RETRY_MS) continue;
      out.add(birthTopicOf(t));
    }
    return [...out];
  }

  /** What a lookup of needed() topics found: `found` maps a BIRTH topic to its last payload. */
  seed(asked: readonly string[], found: ReadonlyMap<string, string>): void {
    const now = this.now();
    for (const topic of asked) {
      const t = parseSparkplugTopic(topic);
      if (t === undefined) continue;
      const key = keyOf(t);
      const raw = found.has(topic) ? decode(found.get(topic) as string) : undefined;
      if (raw === undefined || this.births.has(key)) {
        if (raw === undefined) this.noteMissing(key, now);
        continue;
      }
      this.missing.delete(key);
      this.keep(key, birthOf(raw, LIMITS.maxMetrics));
    }
  }

  /**
   * Fields of a payload on a Sparkplug topic; undefined for any other topic. A DATA of the plain
   * shape is read by the walk (plainFields), anything else decoded in full; both give the same.
   */
  fields(topic: string, payload: string, maxFields: number): NumericField[] | undefined {
    const t = parseSparkplugTopic(topic);
    if (t === undefined) return undefined;
    const birthType = t.type === 'NBIRTH' || t.type === 'DBIRTH';
    if (!birthType && t.type !== 'NDATA' && t.type !== 'DDATA') return [];
    const key = keyOf(t);
    if (!birthType) {
      const birth = this.births.get(key) ?? this.recorded(key, birthTopicOf(t));
      const plain = plainFields(payload, birth, maxFields);
      if (plain !== undefined) return plain;
      const raw = decode(payload);
      return raw === undefined ? [] : numericMetrics(viewSparkplug(raw, birth, LIMITS).metrics, maxFields);
    }
    const raw = decode(payload);
    if (raw === undefined) return [];
    const birth = birthOf(raw, LIMITS.maxMetrics);
    this.missing.delete(key);
    this.keep(key, birth);
    return numericMetrics(viewSparkplug(raw, birth, LIMITS).metrics, maxFields);
  }

  private recorded(key: string, birthTopic: string): Birth | undefined {
    const payload = this.lastBirth(birthTopic);
    const raw = payload === undefined ? undefined : decode(payload);
    if (raw === undefined) return undefined;
    const birth = birthOf(raw, LIMITS.maxMetrics);
    this.keep(key, birth);
    return birth;
  }

  private noteMissing(key: string, now: number): void {
    this.missing.delete(key);
    this.missing.set(key, now);
    if (this.missing.size > MAX_BIRTHS) this.missing.delete(this.missing.keys().next().value as string);
  }

  private keep(key: string, birth: Birth): void {
    this.births.delete(key);
    this.births.set(key, birth);
    if (this.births.size > MAX_BIRTHS) this.births.delete(this.births.keys().next().value as string);
  }
}

/**
 * The numeric fields of a DATA payload of the plain shape (sparkplug-scan.ts), read from its
 * bytes without the protobufjs decode and view: what numericMetrics of the full view gives, name
 * and data type resolved as metricView resolves them. Undefined when the payload is not plain, or
 * a metric before the cap carries what only the full view turns into a value (a string, bytes,
 * more than one value field).
 */
function plainFields(data: string, birth: Birth | undefined, maxFields: number): NumericField[] | undefined {
  const scanned = scanData(data, DECODE_BYTES, LIMITS.maxMetrics);
  if (scanned === undefined) return undefined;
  const { names, aliases, datatypes, valueFields, valueAt } = scanned;
  const out: NumericField[] = [];
  for (let i = 0; i < scanned.count && out.length < maxFields; i++) {
    const alias = aliases[i] as number;
    const declared = alias < 0 ? undefined : birth?.byAliasNumber.get(alias);
    const name = names[i] ?? declared?.name;
    if (name === undefined) continue;
    const field = valueFields[i] as number;
    if (field === -1 || field === 15 || field === 16) return undefined;
    if (field === 0 || field === 7) continue; // no value, or is_null
    const own = datatypes[i] as number;
    const datatype = declared?.datatype ?? birth?.datatypes.get(name) ?? (own >= 0 ? own : 0);
    const value = scalarNumber(data, field, valueAt[i] as number, datatype);
    if (value !== undefined) out.push({ field: name, value });
  }
  return out;
}

/** The key a node's or device's BIRTH is kept under: `group/edge[/device]`. */
function keyOf(t: SparkplugTopic): string {
  return t.device === undefined ? `${t.group}/${t.edge}` : `${t.group}/${t.edge}/${t.device}`;
}

/** The topic of the BIRTH that names the metrics of `t`'s node or device. */
function birthTopicOf(t: SparkplugTopic): string {
  return t.device === undefined
    ? `spBv1.0/${t.group}/NBIRTH/${t.edge}`
    : `spBv1.0/${t.group}/DBIRTH/${t.edge}/${t.device}`;
}

function decode(payload: string): ReturnType<typeof decodeSparkplug> | undefined {
  try {
    return decodeSparkplug(Buffer.from(payload, 'latin1'), DECODE_BYTES);
  } catch {
    return undefined;
  }
}
