import { z } from 'zod';
import { medianGap } from '../history/numeric.js';
import type { OfflinePeriod, SilenceResult, SilentTopic } from '../history/types.js';
import { neutralize } from '../output/neutralize.js';
import { unionPeriods } from '../store/offline.js';
import { iso, readBasis } from './basis.js';
import { defineTool } from './define.js';
import type { ToolDeps } from './deps.js';
import { BasisShape, FilterInput, SourceField } from './schemas.js';

/** Default threshold: this many usual intervals, and at least FLOOR_MS. */
const FACTOR = 3;
const FLOOR_MS = 60_000;
/** Recent messages per topic whose gaps give its usual interval. */
const GAP_SAMPLE = 64;
/** Topics examined from memory at most. */
const MEMORY_TOPICS = 10_000;
/** Offline periods shown at most (the newest). */
const MAX_PERIODS = 20;

export const findSilentTool = defineTool({
  name: 'mqtt_find_silent',
  title: 'Find MQTT topics that went silent',
  description:
    'Topics under a filter whose last message is older than a threshold: silentSeconds, or by default ' +
    `${FACTOR}x the topic's usual interval (its median gap between messages), at least ${FLOOR_MS / 1000} s; topics ` +
    'with too few messages for an interval are only judged with silentSeconds. Each with lastSeenAt, ' +
    'silentSeconds, usualIntervalSeconds, thresholdSeconds and records. bridgeOffline lists when the bridge ' +
    'itself was disconnected (to absent: still offline), so "the device went quiet" and "the bridge was offline" ' +
    'are told apart. Example: filter "plant/#".',
  input: z
    .object({
      filter: FilterInput,
      silentSeconds: z.number().positive().max(31_536_000).optional().describe('Fixed threshold in seconds'),
      limit: z.number().int().min(1).max(500).default(50).describe('Most topics to return'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    source: SourceField,
    examined: z.number().int(),
    silent: z.array(
      z
        .object({
          topic: z.string(),
          lastSeenAt: z.string(),
          silentSeconds: z.number(),
          usualIntervalSeconds: z.number().optional(),
          thresholdSeconds: z.number(),
          records: z.number().int(),
        })
        .meta({ summary: true, description: 'Longest silent first' }),
    ),
    bridgeOffline: z
      .array(z.object({ from: z.string(), to: z.string().optional() }))
      .meta({ summary: true, description: 'When the bridge was disconnected, oldest first' }),
    ...BasisShape,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to see more, raise limit (up to 500) or narrow the filter',
  handler: async ({ filter, silentSeconds, limit }, { deps }) => {
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const query = { filter, now, silentMs: silentSeconds === undefined ? undefined : silentSeconds * 1000 };
    const found =
      deps.history !== undefined
        ? await deps.history.backend.silent({ ...query, factor: FACTOR, floorMs: FLOOR_MS, limit })
        : silentInMemory(deps, query.filter, now, query.silentMs, limit);
    const earliest = found.silent.reduce((t, s) => Math.min(t, s.lastAt), now - 86_400_000);
    return {
      filter,
      source: deps.history !== undefined ? ('history' as const) : ('memory' as const),
      examined: found.examined,
      silent: found.silent.map((s) => ({
        topic: neutralize(s.topic),
        lastSeenAt: iso(s.lastAt),
        silentSeconds: seconds(s.silentMs),
        ...(s.usualIntervalMs !== undefined ? { usualIntervalSeconds: seconds(s.usualIntervalMs) } : {}),
        thresholdSeconds: seconds(s.thresholdMs),
        records: s.records,
      })),
      bridgeOffline: (await offlinePeriods(deps, earliest, now)).map(showPeriod),
      ...readBasis(deps, [filter], { limited: found.more, held: false, now }),
    };
  },
});

/** An offline period as results show it (ISO 8601; `to` absent while still offline). */
export function showPeriod(p: OfflinePeriod): { from: string; to?: string } {
  return p.to === undefined ? { from: iso(p.from) } : { from: iso(p.from), to: iso(p.to) };
}

/** This process's periods, joined with those history recorded of earlier runs. */
export async function offlinePeriods(deps: ToolDeps, from: number, now: number): Promise<OfflinePeriod[]> {
  const mine = deps.offline.since(from);
  if (deps.history === undefined) return mine.slice(-MAX_PERIODS);
  // This run's own periods cover the time since it started, so what is on disk counts only before
  // that: a period of an earlier run still open on disk ended, at the latest, when this one
  // started, and one of this run whose reconnect is not flushed yet must not reopen it.
  const recorded = (await deps.history.backend.offline(from, now))
    .filter((p) => p.from < deps.startedAt)
    .map((p) => (p.to === undefined || p.to > deps.startedAt ? { from: p.from, to: deps.startedAt } : p));
  return unionPeriods([recorded, mine]).slice(-MAX_PERIODS);
}

function silentInMemory(
  deps: ToolDeps,
  filter: string,
  now: number,
  silentMs: number | undefined,
  limit: number,
): SilenceResult {
  const { topics, matched } = deps.store.topics([filter], { limit: MEMORY_TOPICS, now });
  const silent: SilentTopic[] = [];
  for (const t of topics) {
    const usual = medianGap(deps.store.query(t.topic, { limit: GAP_SAMPLE, now }).map((m) => m.receivedAt));
    const threshold = silentMs ?? (usual === undefined ? undefined : Math.max(FLOOR_MS, FACTOR * usual));
    const quiet = now - t.lastReceivedAt;
    if (threshold === undefined || quiet <= threshold) continue;
    silent.push({
      topic: t.topic,
      lastAt: t.lastReceivedAt,
      silentMs: quiet,
      usualIntervalMs: usual,
      thresholdMs: threshold,
      records: t.stored,
    });
  }
  silent.sort((a, b) => b.silentMs - a.silentMs);
  return {
    silent: silent.slice(0, limit),
    examined: topics.length,
    more: silent.length > limit || matched > topics.length,
  };
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
