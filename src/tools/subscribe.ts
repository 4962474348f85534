import { z } from 'zod';
import { neutralize } from '../output/neutralize.js';
import type { CollectionFilter } from '../subscriptions.js';
import { defineTool, type ToolContext } from './define.js';
import { FilterInput } from './schemas.js';

export const SubscriptionsShape = {
  subscriptions: z.array(z.object({ filter: z.string(), source: z.enum(['configured', 'agent']) })).meta({
    summary: true,
    description: 'Collection filters: filter, source configured (operator) or agent (yours)',
  }),
  otherClients: z.number().int().optional().describe('Filters of other MCP clients'),
};

/** The collection filters a principal may see, neutralised, and a count of the others'. */
export function visibleSubscriptions(context: ToolContext): {
  subscriptions: CollectionFilter[];
  otherClients?: number;
} {
  const { filters, others } = context.deps.subscriptions.list(context.principal);
  const subscriptions = filters.map((f) => ({ filter: neutralize(f.filter), source: f.source }));
  return others > 0 ? { subscriptions, otherClients: others } : { subscriptions };
}

export const subscribeTool = defineTool({
  name: 'mqtt_subscribe',
  title: 'Collect an MQTT topic filter',
  description:
    'Collect a topic filter in the background, so that the read tools can answer for it. Retained values arrive at once (retain true). Only ' +
    'filters inside the readable topics. Example: "plant/line2/#".',
  input: z.object({ filter: FilterInput }).strict(),
  output: z.object({
    filter: z.string(),
    added: z.boolean().describe('false: already collected'),
    connected: z.boolean().describe('false: starts once the broker is reachable'),
    ...SubscriptionsShape,
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: false,
  handler: async ({ filter }, context) => {
    const { deps } = context;
    deps.policy.assertReadFilter(filter);
    const added = await deps.subscriptions.add(filter, context.principal);
    return {
      filter: neutralize(filter),
      added,
      connected: deps.link.connected,
      ...visibleSubscriptions(context),
    };
  },
});

export const unsubscribeTool = defineTool({
  name: 'mqtt_unsubscribe',
  title: 'Stop collecting an MQTT topic filter',
  description:
    'Stop collecting a filter you added with mqtt_subscribe (exact same filter string). Messages already stored ' +
    'stay until they age out. Filters configured by the operator cannot be removed.',
  input: z.object({ filter: FilterInput }).strict(),
  output: z.object({
    filter: z.string(),
    removed: z.boolean(),
    ...SubscriptionsShape,
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: false,
  handler: async ({ filter }, context) => {
    await context.deps.subscriptions.remove(filter, context.principal);
    return { filter: neutralize(filter), removed: true, ...visibleSubscriptions(context) };
  },
});
