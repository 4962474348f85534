import { z } from 'zod';
import { defineTool } from './define.js';
import { CoverageSchema, FilterInput, MessageSchema, OmittedSchema } from './schemas.js';
import { showMessages } from './show.js';

export const getLatestTool = defineTool({
  name: 'mqtt_get_latest',
  title: 'Get last-known MQTT values',
  description:
    'The last message of each topic matching a filter (the last-known value), newest first, with receive time and ' +
    'age. Check retain and ageSeconds before calling a value current: retain true means the broker replayed a ' +
    'stored value that may be hours old. Example: filter "plant/line2/+/temperature".',
  input: z
    .object({
      filter: FilterInput,
      limit: z
        .number()
        .int()
        .min(1)
        .max(500)
        .default(50)
        .describe('Most topics to return, 1-500 (default 50)'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    coverage: CoverageSchema,
    matchedTopics: z.number().int().describe('Topics with a stored value that match the filter'),
    count: z.number().int(),
    messages: z.array(MessageSchema).describe('One per topic, newest first'),
    omitted: OmittedSchema,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  handler: async ({ filter, limit }, context) => {
    const { deps } = context;
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const { messages, matched } = deps.store.latest(filter, { limit, now });
    const shown = showMessages(messages, context, 'mqtt_get_latest', now);
    return {
      filter,
      coverage: deps.subscriptions.coverage(filter),
      matchedTopics: matched,
      count: shown.messages.length,
      ...shown,
    };
  },
});
