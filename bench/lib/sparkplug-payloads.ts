/**
 * The Sparkplug B shape of the benches: 20 Double metrics m0..m19 with aliases 1..20. The DBIRTH
 * names them; each DDATA carries all 20 by alias only (no names), as an edge node reporting every
 * metric each time does.
 */
import { encodeSparkplug } from '../../src/decode/sparkplug.js';

type Metrics = Parameters<typeof encodeSparkplug>[0]['metrics'];

// Metric aliases are not in encodeSparkplug's own (NCMD) shape; the protobuf type takes them.
const metrics = (named: boolean): Metrics =>
  Array.from({ length: 20 }, (_, k) => ({
    ...(named ? { name: `m${k}` } : {}),
    alias: k + 1,
    datatype: 10,
    doubleValue: 20 + k / 10,
  })) as unknown as Metrics;

export const BENCH_BIRTH = encodeSparkplug({ timestamp: Date.now(), metrics: metrics(true) });
export const BENCH_DATA = encodeSparkplug({ timestamp: Date.now(), metrics: metrics(false) });
