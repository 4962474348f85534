import { z } from 'zod';
import { BridgeError } from '../errors.js';
import { viewMessage } from '../output/message-view.js';
import type { StoredMessage } from '../store/message-store.js';
import { defineTool } from './define.js';
import { FilterInput, MessageSchema } from './schemas.js';

const PROGRESS_EVERY_MS = 5000;

export const waitForMessagesTool = defineTool({
  name: 'mqtt_wait_for_messages',
  title: 'Wait for live MQTT messages',
  description:
    'Wait for new messages on a topic filter that arrive after the call, up to count messages or timeoutMs, ' +
    'whichever comes first; retained replays are not counted. Use it to watch what happens next ("watch ' +
    'plant/line1/# for 30 seconds": timeoutMs 30000, count 100). timedOut true means fewer than count arrived. ' +
    'Sends progress notifications when the client asks for them.',
  input: z
    .object({
      filter: FilterInput,
      count: z.number().int().min(1).max(100).default(1).describe('Messages to wait for, 1-100 (default 1)'),
      timeoutMs: z
        .number()
        .int()
        .min(100)
        .max(60_000)
        .default(10_000)
        .describe('Longest wait in milliseconds, 100-60000 (default 10000)'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    requested: z.number().int(),
    count: z.number().int(),
    timedOut: z.boolean().describe('True when fewer than the requested messages arrived in time'),
    waitedMs: z.number().int(),
    messages: z.array(MessageSchema).describe('In arrival order'),
  }),
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  brokerData: true,
  handler: async ({ filter, count, timeoutMs }, context) => {
    const { deps, signal } = context;
    const progress = (done: number, total: number, message: string) => context.progress(done, total, message);
    deps.policy.assertReadFilter(filter);
    if (!deps.link.connected) {
      const s = deps.link.status();
      throw new BridgeError(
        'BROKER_UNAVAILABLE',
        `broker unavailable (${s.state}${s.lastError ? `; last error: ${s.lastError.message}` : ''}); no live messages can arrive now`,
      );
    }
    const started = deps.now();
    const received: StoredMessage[] = [];
    const release = await deps.subscriptions.acquireLive(filter);
    let stop: (() => void) | undefined;
    let ticker: NodeJS.Timeout | undefined;
    // The last progress notification is awaited before the result goes out, so that a client
    // never gets the result first and then a progress notification it no longer expects.
    let lastProgress: Promise<void> = Promise.resolve();
    try {
      await new Promise<void>((resolve) => {
        const finish = () => resolve();
        const timer = setTimeout(finish, Math.max(0, timeoutMs - (deps.now() - started)));
        signal.addEventListener('abort', finish, { once: true });
        ticker = setInterval(() => {
          void progress(
            received.length,
            count,
            `${received.length} of ${count} messages after ${Math.round((deps.now() - started) / 1000)} s`,
          );
        }, PROGRESS_EVERY_MS);
        stop = deps.feed.listen(filter, (message) => {
          // A replay from the retained store is not a live message.
          if (message.retain || received.length >= count) return;
          received.push(message);
          lastProgress = progress(received.length, count, `${received.length} of ${count} messages`);
          if (received.length >= count) {
            clearTimeout(timer);
            finish();
          }
        });
      });
    } finally {
      stop?.();
      clearInterval(ticker);
      await release();
    }
    await lastProgress;
    if (signal.aborted) throw new BridgeError('CANCELLED', 'the wait was cancelled by the client');
    const now = deps.now();
    const messages = received
      .slice(0, count)
      .map((m) => viewMessage(m, { maxPayloadBytes: deps.limits.resultPayloadBytes, now }));
    return {
      filter,
      requested: count,
      count: messages.length,
      timedOut: messages.length < count,
      waitedMs: Math.round(now - started),
      messages,
    };
  },
});
