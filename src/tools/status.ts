import { z } from 'zod';
import { defineTool } from './define.js';

export const statusTool = defineTool({
  name: 'mqtt_status',
  title: 'Bridge and broker status',
  description:
    'Whether the bridge is connected to the broker (and if not, the last error in plain words and when it retries), ' +
    'which broker and client id, the topic policy (what you may read and publish), the active collection filters, ' +
    'and store figures including dropped messages. Call it first when a tool says the broker is unavailable.',
  input: z.object({}).strict(),
  output: z.object({
    connection: z.object({
      state: z.enum(['connecting', 'connected', 'reconnecting', 'closed']),
      brokerUrl: z.string().describe('Scheme, host and port; never credentials'),
      protocolVersion: z.union([z.literal(4), z.literal(5)]),
      clientId: z.string(),
      connectedSince: z.string().optional(),
      lastError: z
        .object({ code: z.string(), message: z.string(), at: z.string() })
        .optional()
        .describe('The most recent connection problem, also after recovery'),
      reconnectCount: z.number().int(),
      nextAttemptAt: z.string().optional(),
      tlsVerification: z.string(),
    }),
    readOnly: z.boolean().describe('True when publishing is disabled (mqtt_publish is not offered)'),
    policy: z.object({
      read: z.array(z.string()).describe('Filters you may read'),
      write: z.array(z.string()).describe('Filters you may publish to'),
      deny: z.array(z.string()).describe('Filters never readable or writable'),
    }),
    subscriptions: z.array(z.object({ filter: z.string(), source: z.enum(['configured', 'agent']) })),
    store: z.object({
      topics: z.number().int(),
      messages: z.number().int(),
      bytes: z.number().int(),
      received: z.number().int().describe('Messages received since start-up'),
      truncatedOnArrival: z.number().int(),
      dropped: z.object({
        age: z.number().int(),
        bytes: z.number().int(),
        perTopic: z.number().int(),
        topics: z.number().int(),
        policy: z.number().int().describe('Messages outside the read policy, dropped on arrival'),
      }),
      limits: z.object({
        maxTopics: z.number().int(),
        maxMessagesPerTopic: z.number().int(),
        maxBytes: z.number().int(),
        maxAgeSeconds: z.number(),
        maxPayloadBytes: z.number().int(),
      }),
    }),
    server: z.object({ version: z.string(), uptimeSeconds: z.number() }),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  brokerData: false,
  handler: async (_args, { deps }) => {
    const now = deps.now();
    const s = deps.link.status();
    const stats = deps.store.stats(now);
    const limits = deps.store.limits;
    return {
      connection: {
        state: s.state,
        brokerUrl: s.brokerUrl,
        protocolVersion: s.protocolVersion,
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
      subscriptions: deps.subscriptions.list(),
      store: {
        topics: stats.topics,
        messages: stats.messages,
        bytes: stats.bytes,
        received: stats.received,
        truncatedOnArrival: stats.truncated,
        dropped: stats.dropped,
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
