/**
 * Sparkplug B ingest, decoded and recorded, through a real Mosquitto: a DBIRTH per device, then
 * DDATA with 20 metrics by alias over 1,000 devices (100,000 messages; 20,000 when quick), received
 * by (A) a bare mqtt.js subscriber and (B) the bridge's ingest path with history on: the tracker
 * decodes off the message callback (setImmediate), the history writer decodes again in its worker
 * and records each metric as a series by name. Live floods, A B / B A alternating by round.
 * Figure: the per-round ratio bridge/bare of the wall rate (target: at least 0.5x), with the
 * recorder's counts when the last message arrived.
 */
import type { BenchContext } from '../lib/context.js';
import { connectMqtt } from '../lib/context.js';
import { runWorker } from '../lib/proc.js';
import { spread, type Spread } from '../lib/stats.js';
import { INGEST_PROBE, nodeSubscriber, type IngestTrial } from './ingest.js';

export interface SparkplugIngestResult {
  readonly messages: number;
  readonly devices: number;
  readonly metricsPerMessage: number;
  readonly rounds: ReadonlyArray<{ bare: IngestTrial; recorded: IngestTrial }>;
  /** Decoded and recorded / bare mqtt.js, wall msg/s per round. */
  readonly ratio: Spread;
  readonly writtenAtEnd: Spread;
}

export async function runSparkplugIngest(ctx: BenchContext): Promise<SparkplugIngestResult> {
  const devices = 1000;
  const messages = ctx.options.quick ? 20_000 : 100_000;
  const spy = await connectMqtt(ctx, { identity: 'spy' });
  await spy.publishAsync(INGEST_PROBE, 'ready', { qos: 1, retain: true });
  const rounds: Array<{ bare: IngestTrial; recorded: IngestTrial }> = [];
  const trial = async (who: 'bare' | 'history'): Promise<IngestTrial> => {
    const sub = nodeSubscriber(ctx, who, messages)();
    await sub.ready;
    const flood = runWorker(
      'bench/workers/flood.ts',
      [ctx.broker.url, ctx.pki.dir, String(messages), String(devices), '0', 'spBv1.0/bench', 'sparkplug'],
      { cpu: 'load' },
    );
    const [result] = await Promise.all([sub.done, flood]);
    return result;
  };
  try {
    for (let round = 0; round < ctx.options.rounds; round++) {
      const order = round % 2 === 0 ? (['bare', 'history'] as const) : (['history', 'bare'] as const);
      const got: Partial<Record<'bare' | 'history', IngestTrial>> = {};
      for (const who of order) got[who] = await trial(who);
      const r = { bare: got.bare!, recorded: got.history! };
      rounds.push(r);
      ctx.log(
        `sparkplug ingest round ${round + 1}: bare ${Math.round(r.bare.rate)} msg/s, decoded and recorded ` +
          `${Math.round(r.recorded.rate)} (ratio ${(r.recorded.rate / r.bare.rate).toFixed(3)}); recorder written ` +
          `${r.recorded.history?.written}, dropped ${JSON.stringify(r.recorded.history?.dropped)}`,
      );
    }
  } finally {
    await spy.publishAsync(INGEST_PROBE, '', { qos: 1, retain: true });
    await spy.endAsync();
  }
  return {
    messages,
    devices,
    metricsPerMessage: 20,
    rounds,
    ratio: spread(rounds.map((r) => r.recorded.rate / r.bare.rate)),
    writtenAtEnd: spread(rounds.map((r) => Number(r.recorded.history?.written ?? NaN))),
  };
}
