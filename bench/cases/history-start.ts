/**
 * Start-up with a big history: spawn to `tools/list` answered for the bridge with a 1 GiB history
 * file (64 MiB when quick) against the same bridge with an empty one, alternating, K spawns per
 * round; the figure is the per-round ratio of medians (target: at most 1.5x). The big file is
 * written once through the real backend (about 1 KB JSON payloads over 1,000 topics) into
 * bench/results/raw/ (git-ignored) and reused while it is at least the size asked for.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteHistory } from '../../src/history/sqlite-backend.js';
import type { HistoryRecord } from '../../src/history/types.js';
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, minimalEnv, SERVER } from '../lib/context.js';
import { ROOT } from '../lib/proc.js';
import { startBridge, startMinimal } from '../lib/servers.js';
import { median, spread, type Spread } from '../lib/stats.js';
import { startOnce } from './coldstart.js';
import { stdioOps, type StdioOpResult } from './read.js';

export interface HistoryStartResult {
  readonly historyBytes: number;
  readonly records: number;
  readonly spawnsPerRound: number;
  readonly ratio: Spread;
  readonly bigMs: Spread;
  readonly emptyMs: Spread;
  /** mqtt_read_messages over stdio for one hour of one topic out of the big history, against the no-op tool. */
  readonly hourRead: StdioOpResult;
}

const POLICY = { read: ['#'], write: [], deny: [] };
/** Receive time of the first record of the big history (records 2 ms apart from there). */
const FIRST_AT = Date.parse('2026-11-01T00:00:00Z');

async function buildHistory(ctx: BenchContext, path: string, bytes: number): Promise<number> {
  if (existsSync(path) && statSync(path).size >= bytes) {
    ctx.log(`history start: reusing ${path} (${(statSync(path).size / 2 ** 20).toFixed(0)} MiB)`);
    return -1;
  }
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  const backend = await SqliteHistory.open({
    location: path,
    policy: POLICY,
    retentionMs: 100 * 365 * 86_400_000,
    maxBytes: 64 * 2 ** 30,
    maxPayloadBytes: 65_536,
    maxFieldsPerMessage: 32,
  });
  const pad = 'x'.repeat(960);
  const start = FIRST_AT;
  let records = 0;
  try {
    while ((await backend.stats()).bytesOnDisk < bytes) {
      const batch: HistoryRecord[] = [];
      for (let i = 0; i < 20_000; i++, records++) {
        const payload = `{"value":${(records % 1000) / 10},"note":"${pad}"}`;
        batch.push({
          topic: `bench/history/${records % 1000}`,
          payload,
          sizeBytes: payload.length,
          qos: 0,
          retain: false,
          receivedAt: start + records * 2,
        });
      }
      await backend.append(batch, []);
    }
  } finally {
    await backend.close();
  }
  ctx.log(`history start: wrote ${records} records, ${(statSync(path).size / 2 ** 20).toFixed(0)} MiB`);
  return records;
}

export async function runHistoryStart(ctx: BenchContext): Promise<HistoryStartResult> {
  const target = ctx.options.quick ? 64 * 2 ** 20 : 2 ** 30;
  const cache = join(ROOT, 'bench', 'results', 'raw');
  mkdirSync(cache, { recursive: true });
  const big = join(cache, `history-${target}-${FIRST_AT}.db`);
  const records = await buildHistory(ctx, big, target);
  const dir = mkdtempSync(join(tmpdir(), 'bench-history-start-'));
  try {
    // Each run may add a few records (its connects); the big file is copied so the cache stays as built.
    const bigRun = join(dir, 'big.db');
    copyFileSync(big, bigRun);
    const common = {
      MCP_READ_TOPICS: 'bench/#',
      HISTORY_MAX_BYTES: String(64 * 2 ** 30),
      HISTORY_RETENTION_DAYS: '36500',
    };
    const bigEnv = bridgeEnv(ctx, { ...common, HISTORY_PATH: bigRun });
    const emptyEnv = bridgeEnv(ctx, { ...common, HISTORY_PATH: join(dir, 'empty.db') });
    await startOnce(SERVER, bigEnv); // warm the file system cache, as a restarted container finds it
    await startOnce(SERVER, emptyEnv);
    const k = ctx.options.quick ? 2 : 5;
    const ratios: number[] = [];
    const bigs: number[] = [];
    const empties: number[] = [];
    for (let round = 0; round < ctx.options.rounds; round++) {
      const b: number[] = [];
      const e: number[] = [];
      for (let i = 0; i < k; i++) {
        b.push(await startOnce(SERVER, bigEnv));
        e.push(await startOnce(SERVER, emptyEnv));
      }
      bigs.push(median(b));
      empties.push(median(e));
      ratios.push(median(b) / median(e));
    }
    // mqtt_read_messages for one hour of one topic out of the big history, over stdio, call by
    // call against the minimal SDK server's no-op tool (bench/cases/read.ts).
    const bridge = await startBridge(bigEnv);
    const minimal = await startMinimal(minimalEnv(ctx));
    let hourRead: StdioOpResult;
    try {
      const from = new Date(FIRST_AT).toISOString();
      const to = new Date(FIRST_AT + 3_600_000).toISOString();
      [hourRead] = (await stdioOps(ctx, bridge, minimal, [
        {
          name: 'history: one hour of one topic',
          tool: 'mqtt_read_messages',
          args: { filter: 'bench/history/7', from, to },
          matches: 1,
        },
      ])) as [StdioOpResult];
    } finally {
      await bridge.close();
      await minimal.close();
    }
    const result = {
      hourRead,
      historyBytes: statSync(big).size,
      records,
      spawnsPerRound: k,
      ratio: spread(ratios),
      bigMs: spread(bigs),
      emptyMs: spread(empties),
    };
    ctx.log(
      `history start: ${(result.historyBytes / 2 ** 20).toFixed(0)} MiB history ${result.bigMs.median.toFixed(0)} ms, ` +
        `empty ${result.emptyMs.median.toFixed(0)} ms: ${result.ratio.median.toFixed(2)}x`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
