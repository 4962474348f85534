import { z } from 'zod';
import { defineTool } from './define.js';
import { FilterInput } from './schemas.js';

const SubscriptionList = z
  .array(z.object({ filter: z.string(), source: z.enum(['configured', 'agent']) }))
  .describe('Collection filters active now; "configured" ones are set by the operator and cannot be removed');

export const subscribeTool = defineTool({
  name: 'mqtt_subscribe',
  title: 'Collect an MQTT topic filter',
  description:
    'Start collecting a topic filter in the background, so that mqtt_read_messages, mqtt_get_latest and ' +
    'mqtt_list_topics can answer for it. Retained values arrive at once (marked retain true). Only filters inside ' +
    'the readable topics are accepted. Example: "plant/line3/#".',
  input: z.object({ filter: FilterInput }).strict(),
  output: z.object({
    filter: z.string(),
    added: z.boolean().describe('False when the filter was already collected'),
    connected: z.boolean().describe('False: the subscription starts once the broker is reachable again'),
    subscriptions: SubscriptionList,
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: false,
  handler: async ({ filter }, { deps }) => {
    deps.policy.assertReadFilter(filter);
    const added = await deps.subscriptions.add(filter);
    return { filter, added, connected: deps.link.connected, subscriptions: deps.subscriptions.list() };
  },
});

export const unsubscribeTool = defineTool({
  name: 'mqtt_unsubscribe',
  title: 'Stop collecting an MQTT topic filter',
  description:
    'Stop collecting a filter added with mqtt_subscribe (exact same filter string). Messages already stored stay ' +
    'until they age out. Filters configured by the operator cannot be removed.',
  input: z.object({ filter: FilterInput }).strict(),
  output: z.object({
    filter: z.string(),
    removed: z.boolean(),
    subscriptions: SubscriptionList,
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: false,
  handler: async ({ filter }, { deps }) => {
    await deps.subscriptions.remove(filter);
    return { filter, removed: true, subscriptions: deps.subscriptions.list() };
  },
});
