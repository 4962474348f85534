import { z } from 'zod';
import { readBasis } from './basis.js';
import { defineTool } from './define.js';
import { LatestBasisShape, CatalogField, FilterInput, MessageRef } from './schemas.js';
import { latestOfEach } from './history-reads.js';
import { showMessages } from './show.js';

export const getLatestTool = defineTool({
  name: 'mqtt_get_latest',
  title: 'Get last-known MQTT values',
  description:
    'The last message of each topic matching a filter (the last-known value), newest first. Check retain and ageSeconds before calling a value current: retain true means the broker replayed a ' +
    'stored value that may be hours old. coverage, connection, more: as in mqtt_read_messages. Example: filter ' +
    '"plant/+/temperature".',
  input: z
    .object({
      filter: FilterInput,
      limit: z.number().int().min(1).max(500).default(50).describe('Most topics to return'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    matchedTopics: z.number().int(),
    count: z.number().int(),
    messages: z.array(MessageRef).describe('One per topic, newest first'),
    catalog: CatalogField,
    ...LatestBasisShape,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to see more topics, raise limit (up to 500) or narrow the filter',
  handler: async ({ filter, limit }, context) => {
    const { deps } = context;
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const { messages, matched } = await latestOfEach(deps, filter, limit, now);
    const shown = showMessages(messages, context, 'mqtt_get_latest', now);
    return {
      filter,
      matchedTopics: matched,
      count: shown.messages.length,
      messages: shown.messages,
      ...(shown.catalog !== undefined ? { catalog: shown.catalog } : {}),
      ...readBasis(deps, [filter], {
        limited: matched > messages.length,
        omitted: shown.omitted,
        held: false,
        now,
      }),
    };
  },
});
