/**
 * Stored messages -> the messages of a tool result: per-message and per-result caps, an audit
 * line for each message flagged as looking like instructions, and the operator's description and
 * unit of each topic shown (once per topic, not per message).
 */
import { viewMessages, type MessageView } from '../output/message-view.js';
import type { StoredMessage } from '../store/message-store.js';
import type { ToolContext } from './define.js';

export function showMessages(
  found: readonly StoredMessage[],
  context: ToolContext,
  tool: string,
  now: number,
): { messages: MessageView[]; omitted: number; catalog?: Record<string, About> } {
  const { deps } = context;
  const sparkplug = deps.sparkplug;
  const batch = viewMessages(found, {
    maxPayloadBytes: deps.limits.resultPayloadBytes,
    maxTotalBytes: deps.limits.resultMaxBytes,
    now,
    ...(sparkplug !== undefined ? { sparkplug: (message: StoredMessage) => sparkplug.view(message) } : {}),
  });
  for (const { message, reasons } of batch.flagged) {
    deps.audit.suspicious({
      principal: context.principal,
      ...(deps.brokers.size > 1 ? { broker: deps.broker } : {}),
      tool,
      topic: message.topic,
      payload: message.payload,
      reasons,
    });
  }
  const catalog = aboutTopics(
    context,
    batch.views.map((v, i) => [v.topic, found[i]?.topic ?? v.topic]),
  );
  return catalog === undefined
    ? { messages: batch.views, omitted: batch.omitted }
    : { messages: batch.views, omitted: batch.omitted, catalog };
}

export interface About {
  description?: string;
  unit?: string;
}

/**
 * The catalog's description and unit for each topic (shown name -> topic as published) that has
 * them; undefined when none has.
 */
export function aboutTopics(
  context: ToolContext,
  topics: ReadonlyArray<readonly [shown: string, topic: string]>,
): Record<string, About> | undefined {
  const catalog = context.deps.catalog.current;
  if (catalog.entries.length === 0) return undefined;
  const out: Record<string, About> = {};
  let any = false;
  for (const [shown, topic] of topics) {
    if (Object.hasOwn(out, shown)) continue;
    const about = catalog.about(topic);
    if (about === undefined) continue;
    Object.defineProperty(out, shown, { value: about, enumerable: true, writable: true, configurable: true });
    any = true;
  }
  return any ? out : undefined;
}
