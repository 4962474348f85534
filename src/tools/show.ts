/**
 * Stored messages -> the messages of a tool result: per-message and per-result caps, and an
 * audit line for each message flagged as looking like instructions.
 */
import { viewMessages, type MessageView } from '../output/message-view.js';
import type { StoredMessage } from '../store/message-store.js';
import type { ToolContext } from './define.js';

export function showMessages(
  found: readonly StoredMessage[],
  context: ToolContext,
  tool: string,
  now: number,
): { messages: MessageView[]; omitted: number } {
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
      tool,
      topic: message.topic,
      payload: message.payload,
      reasons,
    });
  }
  return { messages: batch.views, omitted: batch.omitted };
}
