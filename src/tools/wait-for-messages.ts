import { z } from 'zod';
import { BridgeError } from '../errors.js';
import type { StoredMessage } from '../store/message-store.js';
import { connectionBasis } from './basis.js';
import { defineTool } from './define.js';
import { BasisShape, CatalogField, FilterInput, MessageRef } from './schemas.js';
import { showMessages } from './show.js';

const PROGRESS_EVERY_MS = 5000;
const PROGRESS_GAP_MS = 15;

export const waitForMessagesTool = defineTool({
  name: 'mqtt_wait_for_messages',
  title: 'Wait for live MQTT messages',
  description:
    'Wait for messages that arrive after the call on a topic filter, up to count messages or timeoutMs, whichever ' +
    'comes first; retained replays are not counted. To watch what happens next ("watch plant/line1/# for 30 ' +
    'seconds"): timeoutMs 30000, count 100. Sends progress notifications.',
  input: z
    .object({
      filter: FilterInput,
      count: z.number().int().min(1).max(100).default(1).describe('Messages to wait for'),
      timeoutMs: z.number().int().min(100).max(60_000).default(10_000).describe('Longest wait, ms'),
    })
    .strict(),
  output: z.object({
    filter: z.string(),
    requested: z.number().int(),
    count: z.number().int(),
    timedOut: z.boolean(),
    waitedMs: z.number().int(),
    messages: z.array(MessageRef).describe('In arrival order'),
    catalog: CatalogField,
    omitted: BasisShape.omitted,
    connection: BasisShape.connection,
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
        `broker unavailable (${s.state} since ${s.since}${s.lastError ? `; last error: ${s.lastError.message}` : ''}); no live messages can arrive now`,
      );
    }
    const started = deps.now();
    const received: StoredMessage[] = [];
    const release = await deps.subscriptions.acquireLive(filter);
    let stop: (() => void) | undefined;
    let ticker: NodeJS.Timeout | undefined;
    // Progress is sent for intermediate messages only (the result reports the last one). The SDK
    // client handles a notification one microtask after a response that arrives in the same
    // read, and drops progress for a request it has already answered; so the result waits until
    // the last notification is out and a short gap has passed.
    let lastProgress: Promise<void> = Promise.resolve();
    let lastProgressAt = 0;
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
          if (received.length < count) {
            lastProgress = progress(received.length, count, `${received.length} of ${count} messages`);
            lastProgressAt = performance.now();
          }
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
    const sinceProgress = performance.now() - lastProgressAt;
    if (sinceProgress < PROGRESS_GAP_MS)
      await new Promise((r) => setTimeout(r, PROGRESS_GAP_MS - sinceProgress));
    if (signal.aborted) throw new BridgeError('CANCELLED', 'the wait was cancelled by the client');
    const now = deps.now();
    const shown = showMessages(received.slice(0, count), context, 'mqtt_wait_for_messages', now);
    return {
      filter,
      requested: count,
      count: shown.messages.length,
      timedOut: received.length < count,
      waitedMs: Math.round(now - started),
      messages: shown.messages,
      ...(shown.catalog !== undefined ? { catalog: shown.catalog } : {}),
      ...(shown.omitted > 0 ? { omitted: shown.omitted } : {}),
      ...(deps.link.connected ? {} : { connection: connectionBasis(deps) }),
    };
  },
});
