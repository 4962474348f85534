/**
 * Memory per stored message: resident memory growth / messages stored, for the typical
 * 60-byte payload (1,000,000 messages in 10,000 topics: the default store cap), bridge store versus the naive baseline
 * (Map of arrays of payload copies), alternating A B per round, each in a fresh process after
 * a full GC. Plus, once, a heap snapshot of a smaller store summarised by object kind, which
 * says where the bytes of one message go.
 */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { BenchContext } from '../lib/context.js';
import { runWorker } from '../lib/proc.js';
import { spread, type Spread } from '../lib/stats.js';

export interface MemoryResult {
  readonly messages: number;
  readonly payloadBytes: number;
  readonly rounds: Array<{ bridge: Record<string, number>; naive: Record<string, number> }>;
  readonly topics: number;
  readonly bridgeRssPerMessage: Spread;
  /** RSS growth over the second half of the fill / messages in it. */
  readonly bridgeMarginalRssPerMessage: Spread;
  readonly naiveRssPerMessage: Spread;
  readonly bridgeHeapPerMessage: Spread;
  readonly ratio: Spread;
  /** rss per message - payload bytes. */
  readonly overheadPerMessage: Spread;
  readonly kinds: Array<{ kind: string; count: number; bytes: number; perMessage: number }>;
  readonly kindsMessages: number;
}

export async function runMemory(ctx: BenchContext): Promise<MemoryResult> {
  const messages = ctx.options.quick ? 200_000 : 1_000_000;
  const topics = 10_000;
  const payloadBytes = 60;
  const rounds: MemoryResult['rounds'] = [];
  const args = (mode: string) => [mode, String(messages), String(topics), String(payloadBytes)];
  for (let round = 0; round < ctx.options.rounds; round++) {
    const naive = await runWorker('bench/workers/memory.ts', args('naive'), { nodeArgs: ['--expose-gc'] });
    const bridge = await runWorker('bench/workers/memory.ts', args('bridge'), { nodeArgs: ['--expose-gc'] });
    rounds.push({ bridge: bridge as Record<string, number>, naive: naive as Record<string, number> });
    ctx.log(
      `memory round ${round + 1}: bridge ${Number(bridge.rssPerMessage).toFixed(0)} B/msg RSS (${Number(bridge.heapAndBuffersPerMessage).toFixed(0)} heap+buffers), ` +
        `naive ${Number(naive.rssPerMessage).toFixed(0)} B/msg RSS (${Number(naive.heapAndBuffersPerMessage).toFixed(0)})`,
    );
  }
  const kindsMessages = 20_000;
  const snap = await runWorker(
    'bench/workers/memory.ts',
    [
      'bridge',
      String(kindsMessages),
      '2000',
      String(payloadBytes),
      join(tmpdir(), `bench-${process.pid}.heapsnapshot`),
    ],
    {
      nodeArgs: ['--expose-gc'],
    },
  );
  const s = (f: (r: MemoryResult['rounds'][number]) => number) => spread(rounds.map(f));
  return {
    messages,
    topics,
    payloadBytes,
    rounds,
    bridgeRssPerMessage: s((r) => r.bridge.rssPerMessage!),
    bridgeMarginalRssPerMessage: s((r) => r.bridge.marginalRssPerMessage!),
    naiveRssPerMessage: s((r) => r.naive.rssPerMessage!),
    bridgeHeapPerMessage: s((r) => r.bridge.heapAndBuffersPerMessage!),
    ratio: s((r) => r.bridge.rssPerMessage! / r.naive.rssPerMessage!),
    overheadPerMessage: s((r) => r.bridge.rssPerMessage! - payloadBytes),
    kinds: snap.kinds,
    kindsMessages,
  };
}
