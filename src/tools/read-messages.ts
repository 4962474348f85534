import { z } from 'zod';
import { defineTool } from './define.js';
import { CoverageSchema, FilterInput, MessageSchema, OmittedSchema } from './schemas.js';
import { showMessages } from './show.js';

export const readMessagesTool = defineTool({
  name: 'mqtt_read_messages',
  title: 'Read recent MQTT messages',
  description:
    'Recent messages already collected by the bridge for a topic filter, newest first, with receive time, age and ' +
    'retained flag. Use it for history ("what did plant/+/alarm say in the last hour": sinceSeconds 3600). It does ' +
    'not wait; for messages still to come use mqtt_wait_for_messages. coverage "none" means the bridge does not ' +
    'collect that filter: call mqtt_subscribe first.',
  input: z
    .object({
      filter: FilterInput,
      limit: z
        .number()
        .int()
        .min(1)
        .max(200)
        .default(20)
        .describe('Most messages to return, 1-200 (default 20)'),
      sinceSeconds: z
        .number()
        .positive()
        .max(31_536_000)
        .optional()
        .describe('Only messages received in the last N seconds, e.g. 3600 for the last hour'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    coverage: CoverageSchema,
    count: z.number().int(),
    messages: z.array(MessageSchema).describe('Newest first'),
    omitted: OmittedSchema,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  handler: async ({ filter, limit, sinceSeconds }, context) => {
    const { deps } = context;
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const since = sinceSeconds === undefined ? undefined : now - sinceSeconds * 1000;
    const found = deps.store.query(filter, { limit, now, ...(since !== undefined ? { since } : {}) });
    const shown = showMessages(found, context, 'mqtt_read_messages', now);
    return { filter, coverage: deps.subscriptions.coverage(filter), count: shown.messages.length, ...shown };
  },
});
