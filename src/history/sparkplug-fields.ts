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
} from '../decode/sparkplug.js';
import type { NumericField } from './numeric.js';

const MAX_BIRTHS = 10_000;
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

  /** @param lastBirth the last recorded payload of a BIRTH topic (latin1), for keys not seen yet. */
  constructor(private readonly lastBirth: (topic: string) => string | undefined) {}

  /** Fields of a payload on a Sparkplug topic; undefined for any other topic. */
  fields(topic: string, payload: string, maxFields: number): NumericField[] | undefined {
    const t = parseSparkplugTopic(topic);
    if (t === undefined) return undefined;
    const birthType = t.type === 'NBIRTH' || t.type === 'DBIRTH';
    if (!birthType && t.type !== 'NDATA' && t.type !== 'DDATA') return [];
    const raw = decode(payload);
    if (raw === undefined) return [];
    const key = t.device === undefined ? `${t.group}/${t.edge}` : `${t.group}/${t.edge}/${t.device}`;
    let birth: Birth | undefined;
    if (birthType) {
      birth = birthOf(raw, LIMITS.maxMetrics);
      this.keep(key, birth);
    } else {
      birth = this.births.get(key) ?? this.recorded(key, t.device === undefined ? 'NBIRTH' : 'DBIRTH');
    }
    return numericMetrics(viewSparkplug(raw, birth, LIMITS).metrics, maxFields);
  }

  private recorded(key: string, type: 'NBIRTH' | 'DBIRTH'): Birth | undefined {
    const [group, edge, device] = key.split('/');
    const payload = this.lastBirth(
      `spBv1.0/${group}/${type}/${edge}${device === undefined ? '' : `/${device}`}`,
    );
    const raw = payload === undefined ? undefined : decode(payload);
    if (raw === undefined) return undefined;
    const birth = birthOf(raw, LIMITS.maxMetrics);
    this.keep(key, birth);
    return birth;
  }

  private keep(key: string, birth: Birth): void {
    this.births.delete(key);
    this.births.set(key, birth);
    if (this.births.size > MAX_BIRTHS) this.births.delete(this.births.keys().next().value as string);
  }
}

function decode(payload: string): ReturnType<typeof decodeSparkplug> | undefined {
  try {
    return decodeSparkplug(Buffer.from(payload, 'latin1'), DECODE_BYTES);
  } catch {
    return undefined;
  }
}
