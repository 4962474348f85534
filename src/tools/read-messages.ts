import { z } from 'zod';
import { memorySince, readBasis } from './basis.js';
import { defineTool } from './define.js';
import { BASIS_PROSE, BasisShape, CatalogField, FilterInput, MessageSchema, SourceField } from './schemas.js';
import { readRange } from './history-reads.js';
import { showMessages } from './show.js';
import { timeWindow, WindowShape } from './window.js';

export const readMessagesTool = defineTool({
  name: 'mqtt_read_messages',
  title: 'Read recent MQTT messages',
  description:
    'Messages of a topic filter, newest first. For "what did ' +
    'plant/+/alarm say in the last hour" use sinceSeconds 3600; from/to for a past window; source: memory or ' +
    'history (disk) answered. For what comes next, mqtt_wait_for_messages. ' +
    BASIS_PROSE,
  input: z
    .object({
      filter: FilterInput,
      limit: z.number().int().min(1).max(200).default(20).describe('Most messages to return'),
      ...WindowShape,
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    count: z.number().int(),
    messages: z.array(MessageSchema).describe('Newest first'),
    source: SourceField,
    catalog: CatalogField,
    ...BasisShape,
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: true,
  moreHint: 'to see more, raise limit (up to 200), narrow the filter, or ask for a shorter sinceSeconds',
  handler: async ({ filter, limit, ...window }, context) => {
    const { deps } = context;
    deps.policy.assertReadFilter(filter);
    const now = deps.now();
    const { since, until } = timeWindow(window, now);
    const read = await readRange(deps, filter, {
      since,
      until,
      limit,
      now,
      memorySince: memorySince(deps, filter, now),
    });
    const shown = showMessages(read.messages, context, 'mqtt_read_messages', now);
    return {
      filter,
      count: shown.messages.length,
      messages: shown.messages,
      source: read.source,
      ...(shown.catalog !== undefined ? { catalog: shown.catalog } : {}),
      ...readBasis(deps, [filter], {
        since,
        limited: read.more,
        omitted: shown.omitted,
        now,
        ...(read.source === 'history' ? { historySince: read.historySince ?? now } : {}),
      }),
    };
  },
});
