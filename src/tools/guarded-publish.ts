/**
 * Every publish the agent makes goes through here, whatever tool makes it (mqtt_publish,
 * mqtt_sparkplug_rebirth): the OAuth write scope, the write policy, the size limit, the retain
 * and QoS 2 rules, the operator's catalog (a JSON Schema the value must meet), the user's
 * confirmation for risky topics (shown the topic and the payload as they will be sent), the
 * broker's answer, and one audit line for every attempt.
 */
import type { PublishReceipt } from '../bridge.js';
import { BridgeError } from '../errors.js';
import { topicMatches } from '../mqtt/topic.js';
import { PREVIEW_CHARS, confirmationMessage, previewPayload } from '../output/preview.js';
import type { ToolContext } from './define.js';

export interface PublishIntent {
  readonly topic: string;
  readonly bytes: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  /** A problem with the payload found by the caller (bad base64, say): refused after the policy check. */
  readonly invalid?: string | undefined;
}

export async function guardedPublish(context: ToolContext, intent: PublishIntent): Promise<PublishReceipt> {
  const { deps } = context;
  const { topic, bytes, qos, retain } = intent;
  let confirmed: boolean | undefined;
  const audit = (result: string, reasonCode?: number) =>
    deps.audit.publish({
      principal: context.principal,
      ...(deps.brokers.size > 1 ? { broker: deps.broker } : {}),
      topic,
      bytes: bytes.byteLength,
      payload: bytes,
      qos,
      retain,
      result,
      reasonCode,
      confirmed,
    });
  try {
    if (
      deps.writeScope !== undefined &&
      context.auth !== undefined &&
      !context.auth.scopes.includes(deps.writeScope)
    ) {
      throw new BridgeError(
        'POLICY_DENIED',
        `publishing needs the OAuth scope '${deps.writeScope}', which this token does not have`,
      );
    }
    deps.policy.assertWriteTopic(topic);
    if (intent.invalid !== undefined) throw new BridgeError('INVALID_INPUT', intent.invalid);
    if (bytes.byteLength > deps.limits.publishMaxBytes) {
      throw new BridgeError(
        'INVALID_INPUT',
        `payload is ${bytes.byteLength} bytes; the limit is ${deps.limits.publishMaxBytes} bytes (MCP_PUBLISH_MAX_BYTES)`,
      );
    }
    if (retain && !deps.limits.allowRetain) {
      throw new BridgeError(
        'POLICY_DENIED',
        'retained publishes are not allowed here (MCP_PUBLISH_ALLOW_RETAIN); publish with retain false',
      );
    }
    if (qos === 2 && !deps.limits.allowQos2) {
      throw new BridgeError('POLICY_DENIED', 'QoS 2 is not allowed here (MCP_PUBLISH_ALLOW_QOS2); use QoS 1');
    }
    // The operator's catalog can refuse a value or ask for a confirmation, never allow more.
    const catalog = deps.catalog.current;
    const invalid = catalog.publishProblem(topic, bytes);
    if (invalid !== undefined) {
      throw new BridgeError(
        'PAYLOAD_INVALID',
        `the topic catalog (MCP_TOPIC_CATALOG_FILE) does not allow this value there: ${invalid}; nothing was sent`,
      );
    }
    if (
      deps.limits.confirmTopics.some((filter) => topicMatches(filter, topic)) ||
      catalog.needsConfirmation(topic)
    ) {
      confirmed = await confirm(context, intent);
    }
    const receipt = await deps.link.publish({ topic, payload: bytes, qos, retain });
    audit('published', receipt.reasonCode);
    return receipt;
  } catch (error) {
    audit(error instanceof BridgeError ? error.code : 'INTERNAL');
    throw error;
  }
}

/** Ask the user; true when confirmed, a CONFIRMATION_REQUIRED error otherwise. */
async function confirm(context: ToolContext, intent: PublishIntent): Promise<true> {
  // The user sees the topic and the payload as they will be sent (see output/preview.ts).
  const preview = previewPayload(intent.bytes);
  if (preview === undefined) {
    throw new BridgeError(
      'CONFIRMATION_REQUIRED',
      `the payload (${intent.bytes.byteLength} bytes) is too long to show the user faithfully for confirmation (about ${PREVIEW_CHARS} characters can be shown); nothing was sent`,
    );
  }
  const answer = await context.confirm(
    confirmationMessage(intent.topic, preview, { qos: intent.qos, retain: intent.retain }),
  );
  if (answer === 'unsupported') {
    throw new BridgeError(
      'CONFIRMATION_REQUIRED',
      "publishing to that topic needs the user's confirmation, and this client cannot ask for it (no MCP elicitation support); nothing was sent",
    );
  }
  if (!answer)
    throw new BridgeError('CONFIRMATION_REQUIRED', 'the user did not confirm the publish; nothing was sent');
  return true;
}
