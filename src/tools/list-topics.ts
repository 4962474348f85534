import { z } from 'zod';
import { filterCovers } from '../mqtt/topic.js';
import { ageSeconds } from '../output/message-view.js';
import { neutralize } from '../output/neutralize.js';
import { defineTool } from './define.js';
import { readBasis } from './basis.js';
import { listTopics } from './history-reads.js';
import { LatestBasisShape, FilterInput } from './schemas.js';

export const listTopicsTool = defineTool({
  name: 'mqtt_list_topics',
  title: 'List known MQTT topics',
  description:
    "Topics the bridge has seen under a filter, in tree order, with message counts and the last message's time, " +
    'age, retained flag and size. Use it to discover the topic tree ("what exists under plant/": filter ' +
    '"plant/#"); for devices that went quiet, mqtt_find_silent. coverage, connection, more: as in mqtt_read_messages.',
  input: z
    .object({
      filter: FilterInput.optional().describe('Topic filter, e.g. "plant/#"; absent: everything readable'),
      limit: z.number().int().min(1).max(1000).default(100).describe('Most topics to return'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    matched: z.number().int(),
    count: z.number().int(),
    topics: z.array(
      z
        .object({
          topic: z.string(),
          received: z.number().int(),
          stored: z.number().int(),
          lastReceivedAt: z.string(),
          ageSeconds: z.number(),
          lastRetain: z.boolean(),
          lastSizeBytes: z.number().int(),
          recorded: z.number().int().optional(),
          firstRecordedAt: z.string().optional(),
          description: z.string().optional(),
          unit: z.string().optional(),
        })
        .meta({
          summary: true,
          description:
            'topic; received (since the bridge started); stored (held now); lastReceivedAt, ageSeconds (since the ' +
            'last message); lastRetain (it was a retained replay); lastSizeBytes; recorded, firstRecordedAt (on disk); ' +
            "description, unit (operator's)",
        }),
    ),
    ...LatestBasisShape,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint:
    'to see more topics, raise limit (up to 1000) or list a narrower filter, e.g. one branch at a time',
  handler: async ({ filter, limit }, { deps }) => {
    const filters = filter === undefined ? readableRoots(deps.policy.rules.read) : [filter];
    for (const f of filters) deps.policy.assertReadFilter(f);
    const now = deps.now();
    const { topics, matched } = await listTopics(deps, filters, limit, now);
    const catalog = deps.catalog.current;
    // Topic names count against the result's size limit like payloads do.
    let budget = deps.limits.resultMaxBytes;
    let shown = 0;
    while (shown < topics.length) {
      const cost = (topics[shown] as { topic: string }).topic.length + TOPIC_OVERHEAD;
      if (cost > budget && shown > 0) break;
      budget -= cost;
      shown++;
    }
    return {
      filter: filters.map(neutralize).join(','),
      matched,
      count: shown,
      topics: topics.slice(0, shown).map((t) => ({
        topic: neutralize(t.topic),
        received: t.received,
        stored: t.stored,
        lastReceivedAt: new Date(t.lastReceivedAt).toISOString(),
        ageSeconds: ageSeconds(t.lastReceivedAt, now),
        lastRetain: t.lastRetain,
        lastSizeBytes: t.lastSizeBytes,
        ...(t.recorded !== undefined ? { recorded: t.recorded } : {}),
        ...(t.firstRecordedAt !== undefined
          ? { firstRecordedAt: new Date(t.firstRecordedAt).toISOString() }
          : {}),
        ...catalog.about(t.topic),
      })),
      ...readBasis(deps, filters, {
        limited: matched > topics.length,
        omitted: topics.length - shown,
        held: false,
        now,
      }),
    };
  },
});

/** What one listed topic adds to a result besides its name. */
const TOPIC_OVERHEAD = 150;

/** The read rules that are not covered by another read rule (so no topic is listed twice). */
function readableRoots(read: readonly string[]): string[] {
  return read.filter(
    (rule, i) => !read.some((other, j) => j !== i && filterCovers(other, rule) && (other !== rule || j < i)),
  );
}
