import { z } from 'zod';
import { filterCovers } from '../mqtt/topic.js';
import { ageSeconds } from '../output/message-view.js';
import { neutralize } from '../output/neutralize.js';
import { defineTool } from './define.js';
import { CoverageSchema, FilterInput } from './schemas.js';

export const listTopicsTool = defineTool({
  name: 'mqtt_list_topics',
  title: 'List known MQTT topics',
  description:
    'Topics the bridge has seen under a filter, in tree order (level by level, by name), each with message count, last receive time and age, ' +
    'retained flag and size of the last message. Use it to discover the topic tree ("what exists under plant/": ' +
    'filter "plant/#") or to find devices that went quiet (large ageSeconds).',
  input: z
    .object({
      filter: FilterInput.optional().describe(
        'Topic filter, e.g. "plant/#"; leave it out to list everything readable (every filter of policy.read)',
      ),
      limit: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(100)
        .describe('Most topics to return, 1-1000 (default 100)'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    coverage: CoverageSchema,
    matched: z.number().int().describe('Known topics matching the filter'),
    count: z.number().int(),
    truncated: z.boolean().describe('True when more topics matched than were returned; narrow the filter'),
    topics: z.array(
      z.object({
        topic: z.string(),
        received: z.number().int().describe('Messages received since the bridge started'),
        stored: z.number().int().describe('Messages of this topic still held'),
        lastReceivedAt: z.string().describe('ISO 8601'),
        ageSeconds: z.number().describe('Seconds since the last message'),
        lastRetain: z.boolean().describe('Whether the last message was a retained replay'),
        lastSizeBytes: z.number().int(),
      }),
    ),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  handler: async ({ filter, limit }, { deps }) => {
    const filters = filter === undefined ? readableRoots(deps.policy.rules.read) : [filter];
    for (const f of filters) deps.policy.assertReadFilter(f);
    const now = deps.now();
    const { topics, matched } = deps.store.topics(filters, { limit, now });
    return {
      filter: filters.join(','),
      coverage: combinedCoverage(filters.map((f) => deps.subscriptions.coverage(f))),
      matched,
      count: topics.length,
      truncated: matched > topics.length,
      topics: topics.map((t) => ({
        topic: neutralize(t.topic),
        received: t.received,
        stored: t.stored,
        lastReceivedAt: new Date(t.lastReceivedAt).toISOString(),
        ageSeconds: ageSeconds(t.lastReceivedAt, now),
        lastRetain: t.lastRetain,
        lastSizeBytes: t.lastSizeBytes,
      })),
    };
  },
});

/** The read rules that are not covered by another read rule (so no topic is listed twice). */
function readableRoots(read: readonly string[]): string[] {
  return read.filter(
    (rule, i) => !read.some((other, j) => j !== i && filterCovers(other, rule) && (other !== rule || j < i)),
  );
}

function combinedCoverage(all: Array<'full' | 'partial' | 'none'>): 'full' | 'partial' | 'none' {
  if (all.every((c) => c === 'full')) return 'full';
  return all.every((c) => c === 'none') ? 'none' : 'partial';
}
