/**
 * Ingest with history on, through a real Mosquitto: 200,000 QoS 0 messages of 60 bytes over
 * 1,000 topics (30,000 when quick), received by (A) a bare mqtt.js subscriber, (B) the bridge's
 * ingest path with history off, (C) the same recording every message into a fresh SQLite file
 * (HISTORY_PATH, default settings). Live floods (publisher and subscriber at once), the order
 * A B C and C B A alternating by round. Figures: the per-round ratios history/bare and
 * bridge/bare of the wall rate (target: history >= 0.8x), and the recorder's counts when the last
 * message arrived (written, queued, dropped: the writer keeping up, or not).
 */
import type { BenchContext } from '../lib/context.js';
import { connectMqtt } from '../lib/context.js';
import { spread, type Spread } from '../lib/stats.js';
import { floodInto, INGEST_PROBE, nodeSubscriber, type IngestTrial } from './ingest.js';

export interface HistoryIngestResult {
  readonly flood: number;
  readonly topics: number;
  readonly rounds: ReadonlyArray<{ bare: IngestTrial; bridge: IngestTrial; history: IngestTrial }>;
  /** history on / bare mqtt.js, wall msg/s per round. */
  readonly ratio: Spread;
  /** history off (the bridge as today) / bare mqtt.js, in the same rounds. */
  readonly offRatio: Spread;
  readonly historyRate: Spread;
  /** Records the recorder had written (not just queued) when the last message arrived. */
  readonly writtenAtEnd: Spread;
  readonly droppedAtEnd: Spread;
}

export async function runHistoryIngest(ctx: BenchContext): Promise<HistoryIngestResult> {
  const { quick } = ctx.options;
  const flood = quick ? 30_000 : 200_000;
  const topics = 1000;
  const spy = await connectMqtt(ctx, { identity: 'spy' });
  await spy.publishAsync(INGEST_PROBE, 'ready', { qos: 1, retain: true });
  const rounds: Array<{ bare: IngestTrial; bridge: IngestTrial; history: IngestTrial }> = [];
  try {
    for (let round = 0; round < ctx.options.rounds; round++) {
      const order =
        round % 2 === 0 ? (['bare', 'bridge', 'history'] as const) : (['history', 'bridge', 'bare'] as const);
      const got: Partial<Record<(typeof order)[number], IngestTrial>> = {};
      for (const who of order) {
        got[who] = (await floodInto(ctx, nodeSubscriber(ctx, who, flood), flood, topics, 60, 'live')).trial;
      }
      const r = { bare: got.bare!, bridge: got.bridge!, history: got.history! };
      rounds.push(r);
      ctx.log(
        `history ingest round ${round + 1}: bare ${Math.round(r.bare.rate)} msg/s, history off ${Math.round(r.bridge.rate)}, ` +
          `on ${Math.round(r.history.rate)} (ratio ${(r.history.rate / r.bare.rate).toFixed(3)}); recorder written ${r.history.history?.written}, ` +
          `queued ${r.history.history?.queued}, dropped ${JSON.stringify(r.history.history?.dropped)}`,
      );
    }
  } finally {
    await spy.publishAsync(INGEST_PROBE, '', { qos: 1, retain: true });
    await spy.endAsync();
  }
  const dropped = (t: IngestTrial) =>
    Number(t.history?.dropped?.queueFull ?? 0) + Number(t.history?.dropped?.whilePaused ?? 0);
  return {
    flood,
    topics,
    rounds,
    ratio: spread(rounds.map((r) => r.history.rate / r.bare.rate)),
    offRatio: spread(rounds.map((r) => r.bridge.rate / r.bare.rate)),
    historyRate: spread(rounds.map((r) => r.history.rate)),
    writtenAtEnd: spread(rounds.map((r) => Number(r.history.history?.written ?? NaN))),
    droppedAtEnd: spread(rounds.map((r) => dropped(r.history))),
  };
}
