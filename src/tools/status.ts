import { z } from 'zod';
import { defineTool } from './define.js';
import type { ToolDeps } from './deps.js';
import type { AckStats } from '../bridge.js';
import type { RecorderStatus } from '../history/recorder.js';
import { SubscriptionsShape, visibleSubscriptions } from './subscribe.js';

const count = z.number().int();

const HistoryStatus = z.object({
  state: z.enum(['off', 'recording', 'paused']),
  reason: z.string().optional(),
  pausedSince: z.string().optional(),
  path: z.string().optional(),
  storage: z.string().optional(),
  bytesOnDisk: count.optional(),
  records: count.optional(),
  oldestRecordAt: z.string().optional(),
  queued: count.optional(),
  written: count.optional(),
  dropped: z.record(z.string(), count).optional(),
  acknowledgements: z
    .object({
      held: count,
      sent: count,
      lostWithConnection: count,
      duplicatesRemoved: count,
      copiesRemoved: count,
      redeliveredRecorded: count,
      ackedUnwritten: count,
      intakePauses: count,
      sessionsLost: count,
    })
    .optional()
    .describe(
      'At-least-once recording (a replica with a kept session): PUBACKs held until their batch commits, sent ' +
        'after it; lostWithConnection (committed after the connection dropped; the broker resends them); ' +
        'duplicatesRemoved (resent copies of messages committed after the connection dropped, not recorded ' +
        'again); copiesRemoved (resent copies of messages committed before a crash or restart, found in ' +
        'history by packet id and not recorded again); redeliveredRecorded (resent messages recorded: their ' +
        'first delivery was never committed); ackedUnwritten (acknowledged ' +
        'without a commit: while history was paused); intakePauses (times a full queue stopped the bridge ' +
        'reading from the broker until the writer caught up; the broker kept the messages meanwhile); ' +
        'sessionsLost (reconnects on which the broker had kept no session: expired while away, or restarted ' +
        'without persistence; what was published meanwhile and not delivered is not in history)',
    ),
});

const StatusOutput = z.object({
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
  history: HistoryStatus.meta({
    summary: true,
    description:
      'On disk: state off, recording or paused (reason); path, storage, bytesOnDisk, records, oldestRecordAt, ' +
      'queued, written, dropped',
  }),
  server: z.object({ version: z.string(), uptimeSeconds: z.number() }).meta({ summary: true }),
});

const BrokerSummary = z.object({
  name: z.string(),
  state: z.enum(['connecting', 'connected', 'reconnecting', 'closed']),
  brokerUrl: z.string(),
  lastError: z.object({ code: z.string(), message: z.string(), at: z.string() }).optional(),
  readOnly: z.boolean(),
  topics: count,
  messages: count,
  received: count,
});

export const statusTool = defineTool({
  name: 'mqtt_status',
  title: 'Bridge and broker status',
  description:
    'Whether the bridge is connected to the broker (if not: the last error in plain words, next retry), broker, ' +
    'client id, MQTT version, the topic policy, the collection filters, memory and history ' +
    'figures with drops. Call it first when a tool says the broker is unavailable.',
  input: z.object({}).strict(),
  output: StatusOutput,
  outputWithBrokers: StatusOutput.extend({
    brokers: z.array(BrokerSummary).meta({
      summary: true,
      description: 'Every broker: name, state, brokerUrl, lastError, readOnly, topics, messages, received',
    }),
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
      history: await historyStatus(deps),
      server: { version: deps.version, uptimeSeconds: Math.round((now - deps.startedAt) / 1000) },
      ...(deps.brokers.size > 1
        ? { brokers: [...deps.brokers.values()].map((b) => brokerSummary(b, now)) }
        : {}),
    };
  },
});

/** History in operator words: off, recording, or paused with why; what is on disk, what was dropped. */
async function historyStatus(deps: ToolDeps): Promise<z.infer<typeof HistoryStatus>> {
  const history = deps.history;
  if (history === undefined) return { state: 'off' };
  const r = history.recorder.status();
  const stats = await history.backend.stats().catch(() => undefined);
  return {
    state: r.state,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r.since !== undefined ? { pausedSince: new Date(r.since).toISOString() } : {}),
    path: history.path,
    ...(stats !== undefined
      ? {
          ...(stats.storage !== undefined ? { storage: stats.storage } : {}),
          bytesOnDisk: stats.bytesOnDisk,
          records: stats.records,
          ...(stats.oldestAt !== undefined ? { oldestRecordAt: new Date(stats.oldestAt).toISOString() } : {}),
        }
      : {}),
    queued: r.queued,
    written: r.written,
    dropped: { ...r.dropped },
    ...(history.acknowledgements !== undefined
      ? { acknowledgements: acknowledgements(history.acknowledgements(), stats?.copiesRemoved ?? 0, r) }
      : {}),
  };
}

/** The link's counts with the copies history removed: those are not among the redeliveries recorded. */
function acknowledgements(
  link: AckStats,
  copiesRemoved: number,
  recorder: RecorderStatus,
): z.infer<typeof HistoryStatus>['acknowledgements'] {
  return {
    held: link.held,
    sent: link.sent,
    lostWithConnection: link.lostWithConnection,
    duplicatesRemoved: link.duplicatesRemoved,
    copiesRemoved,
    redeliveredRecorded: Math.max(0, link.redeliveredRecorded - copiesRemoved),
    ackedUnwritten: recorder.ackedUnwritten,
    intakePauses: recorder.intakePauses,
    sessionsLost: link.sessionsLost,
  };
}

/** One line per broker for mqtt_status with several brokers. */
function brokerSummary(deps: ToolDeps, now: number): z.infer<typeof BrokerSummary> {
  const s = deps.link.status();
  const stats = deps.store.stats(now);
  return {
    name: deps.broker,
    state: s.state,
    brokerUrl: s.brokerUrl,
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
    readOnly: deps.policy.readOnly,
    topics: stats.topics,
    messages: stats.messages,
    received: stats.received,
  };
}
