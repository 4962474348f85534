import { z } from 'zod';
import { readBasis } from './basis.js';
import { defineTool } from './define.js';
import { BASIS_PROSE, BasisShape, CatalogField, FilterInput, MessageSchema } from './schemas.js';
import { showMessages } from './show.js';

export const readMessagesTool = defineTool({
  name: 'mqtt_read_messages',
  title: 'Read recent MQTT messages',
  description:
    'Messages the bridge has collected for a topic filter, newest first, with receive time, age and retained flag. ' +
    'For "what did plant/+/alarm say in the last hour" use sinceSeconds 3600; for what comes next, ' +
    'mqtt_wait_for_messages. ' +
    BASIS_PROSE,
  input: z
    .object({
      filter: FilterInput,
      limit: z.number().int().min(1).max(200).default(20).describe('Most messages to return'),
      sinceSeconds: z
        .number()
        .positive()
        .max(31_536_000)
        .optional()
        .describe('Only the last N seconds, e.g. 3600'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    count: z.number().int(),
    messages: z.array(MessageSchema).describe('Newest first'),
    catalog: CatalogField,
    ...BasisShape,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to see more, raise limit (up to 200), narrow the filter, or ask for a shorter sinceSeconds',
  handler: async ({ filter, limit, sinceSeconds }, context) => {
    const { deps } = context;
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const since = sinceSeconds === undefined ? undefined : now - sinceSeconds * 1000;
    const found = deps.store.query(filter, {
      limit: limit + 1,
      now,
      ...(since !== undefined ? { since } : {}),
    });
    const limited = found.length > limit;
    const shown = showMessages(limited ? found.slice(0, limit) : found, context, 'mqtt_read_messages', now);
    return {
      filter,
      count: shown.messages.length,
      messages: shown.messages,
      ...(shown.catalog !== undefined ? { catalog: shown.catalog } : {}),
      ...readBasis(deps, [filter], { since, limited, omitted: shown.omitted, now }),
    };
  },
});
