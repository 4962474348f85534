import { z } from 'zod';
import { defineTool } from './define.js';
import { SubscriptionsShape, visibleSubscriptions } from './subscribe.js';

const count = z.number().int();

export const statusTool = defineTool({
  name: 'mqtt_status',
  title: 'Bridge and broker status',
  description:
    'Whether the bridge is connected to the broker (if not: the last error in plain words, next retry), broker, ' +
    'client id, MQTT version, the topic policy (read, write, deny), the collection filters and memory ' +
    'figures with dropped messages. Call it first when a tool says the broker is unavailable.',
  input: z.object({}).strict(),
  output: z.object({
    connection: z
      .object({
        state: z.enum(['connecting', 'connected', 'reconnecting', 'closed']),
        since: z.string(),
        brokerUrl: z.string(),
        protocolVersion: z.union([z.literal(4), z.literal(5)]),
        protocolNote: z.string().optional(),
        clientId: z.string(),
        connectedSince: z.string().optional(),
        lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).optional(),
        reconnectCount: count,
        nextAttemptAt: z.string().optional(),
        tlsVerification: z.string(),
      })
      .meta({
        summary: true,
        description:
          'state, since, brokerUrl, protocolVersion, clientId; lastError {code, message, at}: the last problem in ' +
          'plain words; nextAttemptAt',
      }),
    readOnly: z.boolean().describe('true: publishing is disabled'),
    policy: z
      .object({ read: z.array(z.string()), write: z.array(z.string()), deny: z.array(z.string()) })
      .meta({ summary: true, description: 'Filters you may read and publish to; deny wins over both' }),
    ...SubscriptionsShape,
    store: z
      .object({
        topics: count,
        messages: count,
        bytes: count,
        received: count,
        truncatedOnArrival: count,
        replaysIgnored: count,
        dropped: z.record(z.string(), count),
        limits: z.record(z.string(), z.number()),
      })
      .meta({
        summary: true,
        description:
          'Memory: topics, messages, bytes; received; replaysIgnored (retained values already held); dropped by ' +
          'cause; limits',
      }),
    server: z.object({ version: z.string(), uptimeSeconds: z.number() }).meta({ summary: true }),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: false,
  handler: async (_args, context) => {
    const { deps } = context;
    const now = deps.now();
    const s = deps.link.status();
    const stats = deps.store.stats(now);
    const limits = deps.store.limits;
    return {
      connection: {
        state: s.state,
        since: s.since,
        brokerUrl: s.brokerUrl,
        protocolVersion: s.protocolVersion,
        ...(s.protocolNote !== undefined ? { protocolNote: s.protocolNote } : {}),
        clientId: s.clientId,
        ...(s.connectedSince !== undefined ? { connectedSince: s.connectedSince } : {}),
        ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
        reconnectCount: s.reconnectCount,
        ...(s.nextAttemptAt !== undefined ? { nextAttemptAt: s.nextAttemptAt } : {}),
        tlsVerification: s.tlsVerification,
      },
      readOnly: deps.policy.readOnly,
      policy: {
        read: [...deps.policy.rules.read],
        write: [...deps.policy.rules.write],
        deny: [...deps.policy.rules.deny],
      },
      ...visibleSubscriptions(context),
      store: {
        topics: stats.topics,
        messages: stats.messages,
        bytes: stats.bytes,
        received: stats.received,
        truncatedOnArrival: stats.truncated,
        replaysIgnored: stats.replaysIgnored,
        dropped: { ...stats.dropped },
        limits: {
          maxTopics: limits.maxTopics,
          maxMessagesPerTopic: limits.maxMessagesPerTopic,
          maxBytes: limits.maxBytes,
          maxAgeSeconds: limits.maxAgeMs / 1000,
          maxPayloadBytes: limits.maxPayloadBytes,
        },
      },
      server: { version: deps.version, uptimeSeconds: Math.round((now - deps.startedAt) / 1000) },
    };
  },
});
