/**
 * How a stored message is shown to a model: metadata in its own fields; the payload as its JSON
 * value when it is JSON that round-trips without loss (encoding `json`), as UTF-8 text when the
 * bytes are valid UTF-8, and as base64 otherwise; cut to a per-message cap with `truncated` and
 * the original size reported. Fields at their usual value are left out, since an agent pays for
 * every byte of every message: `encoding` when utf8, `retain` when false, `truncated` when false,
 * `properties` when there are none.
 */
import { isUtf8 } from 'node:buffer';
import type { StoredMessage } from '../store/message-store.js';
import { jsonPayload, neutralizeJson, type JsonValue } from './json-payload.js';
import { REPLACEMENT, neutralize, stripInvisible } from './neutralize.js';
import { suspiciousReasons } from './suspicious.js';

export interface MessageView {
  topic: string;
  payload: JsonValue;
  /** Absent: utf8. */
  encoding?: 'json' | 'sparkplug' | 'base64';
  /** Why a payload on a Sparkplug topic is shown as base64 instead of decoded. */
  decodeError?: string;
  qos: 0 | 1 | 2;
  /** Present (true) for a retained replay; absent when false. */
  retain?: true;
  receivedAt: string;
  ageSeconds: number;
  sizeBytes: number;
  /** Present (true) when the payload was cut; absent when not. */
  truncated?: true;
  /** Present (true) when the payload or topic looks like instructions to a model. */
  suspicious?: true;
  properties?: { contentType?: string; userProperties?: Record<string, string> };
}

export interface ViewOptions {
  /** Payload bytes shown per message. */
  readonly maxPayloadBytes: number;
  readonly now: number;
  /** Decodes a payload on a Sparkplug B topic (undefined for other topics). */
  readonly sparkplug?: (message: StoredMessage) => { ok: SparkplugView } | { error: string } | undefined;
}

/** A decoded Sparkplug payload as the view shows it (see decode/sparkplug.ts). */
export interface SparkplugView {
  readonly metrics: readonly unknown[];
  readonly omittedMetrics?: number;
}

export function viewMessage(message: StoredMessage, options: ViewOptions): MessageView {
  const decoded = options.sparkplug?.(message);
  if (decoded !== undefined && 'ok' in decoded) {
    const payload = fitSparkplug(decoded.ok, options.maxPayloadBytes);
    if (payload !== undefined)
      return withProperties(message, baseView(message, payload, 'sparkplug', false, options));
  }
  const view = textView(message, options);
  if (decoded !== undefined && 'error' in decoded) {
    // A Sparkplug topic whose payload does not decode: shown as before, and flagged.
    view.payload = message.payload.subarray(0, options.maxPayloadBytes).toString('base64');
    view.encoding = 'base64';
    view.decodeError = decoded.error;
  }
  return view;
}

/** The decoded payload, neutralised, with metrics left out (and counted) until it fits the cap. */
function fitSparkplug(view: SparkplugView, maxBytes: number): JsonValue | undefined {
  let metrics = view.metrics;
  const omitted = view.omittedMetrics ?? 0;
  for (;;) {
    const left = omitted + view.metrics.length - metrics.length;
    const candidate = { ...view, metrics, ...(left > 0 ? { omittedMetrics: left } : {}) };
    const json = neutralizeJson(candidate);
    if (json === undefined) return undefined;
    if (metrics.length <= 1 || JSON.stringify(json).length <= maxBytes) return json;
    metrics = metrics.slice(0, Math.floor(metrics.length / 2));
  }
}

function baseView(
  message: StoredMessage,
  payload: JsonValue,
  encoding: NonNullable<MessageView['encoding']> | 'utf8',
  truncated: boolean,
  options: ViewOptions,
): MessageView {
  return {
    topic: neutralize(message.topic),
    payload,
    ...(encoding !== 'utf8' ? { encoding } : {}),
    qos: message.qos,
    ...(message.retain ? { retain: true as const } : {}),
    receivedAt: new Date(message.receivedAt).toISOString(),
    ageSeconds: ageSeconds(message.receivedAt, options.now),
    sizeBytes: message.sizeBytes,
    ...(truncated ? { truncated: true as const } : {}),
  };
}

function textView(message: StoredMessage, options: ViewOptions): MessageView {
  const stored = message.payload;
  let bytes =
    stored.byteLength > options.maxPayloadBytes ? stored.subarray(0, options.maxPayloadBytes) : stored;
  const cut = bytes.byteLength < message.sizeBytes;
  if (cut) bytes = trimPartialUtf8(bytes);
  const text = isUtf8(bytes);
  const utf8 = text ? bytes.toString('utf8') : undefined;
  const json = utf8 !== undefined && !cut ? jsonPayload(utf8) : undefined;
  const view = baseView(
    message,
    json ?? (utf8 !== undefined ? neutralize(utf8) : bytes.toString('base64')),
    json !== undefined ? 'json' : utf8 !== undefined ? 'utf8' : 'base64',
    cut,
    options,
  );
  return withProperties(message, view);
}

/** The message's MQTT 5 properties, neutralised and bounded, added to its view. */
function withProperties(message: StoredMessage, view: MessageView): MessageView {
  const props = message.properties;
  if (props !== undefined) {
    const out: NonNullable<MessageView['properties']> = {};
    if (props.contentType !== undefined) out.contentType = neutralize(props.contentType).slice(0, 256);
    if (props.userProperties !== undefined) {
      const user: Record<string, string> = Object.create(null) as Record<string, string>;
      let n = 0;
      for (const [key, value] of Object.entries(props.userProperties)) {
        if (n++ >= 16) break;
        const joined = Array.isArray(value) ? value.join(', ') : String(value);
        user[neutralize(key).slice(0, 128)] = neutralize(joined).slice(0, 512);
      }
      out.userProperties = { ...user };
    }
    view.properties = out;
  }
  return view;
}

export interface ViewBatch {
  readonly views: MessageView[];
  /** Messages left out because the result's byte budget was spent. */
  readonly omitted: number;
  /** Messages shown that were flagged suspicious, with the reasons (for the audit log). */
  readonly flagged: ReadonlyArray<{ readonly message: StoredMessage; readonly reasons: readonly string[] }>;
}

/** What a message costs in a result besides its payload and topic: field names and values. */
const VIEW_OVERHEAD = 160;

/** Roughly what one message adds to a result: its payload as shown, its topic, properties and fields. */
export function viewCost(message: StoredMessage, maxPayloadBytes: number): number {
  // A decoded Sparkplug payload is JSON a few times the size of its protobuf.
  const shown = message.topic.startsWith('spBv1.0/') ? message.storedBytes * 4 : message.storedBytes;
  let cost = Math.min(shown, maxPayloadBytes) + message.topic.length + VIEW_OVERHEAD;
  const props = message.properties;
  if (props !== undefined) {
    cost += Math.min(props.contentType?.length ?? 0, 256);
    let n = 0;
    for (const [key, value] of Object.entries(props.userProperties ?? {})) {
      if (n++ >= 16) break;
      const length = Array.isArray(value) ? value.join(', ').length : String(value).length;
      cost += Math.min(key.length, 128) + Math.min(length, 512) + 8;
    }
  }
  return cost;
}

/**
 * Views of several messages for one result, within a total byte budget that counts whole
 * messages (payload, topic, properties, fields): once it is spent the remaining messages are left
 * out and counted. Flags suspicious ones.
 */
export function viewMessages(
  messages: readonly StoredMessage[],
  options: ViewOptions & { readonly maxTotalBytes: number },
): ViewBatch {
  const views: MessageView[] = [];
  const flagged: Array<{ message: StoredMessage; reasons: string[] }> = [];
  let budget = options.maxTotalBytes;
  let i = 0;
  for (; i < messages.length; i++) {
    const message = messages[i] as StoredMessage;
    const cost = viewCost(message, options.maxPayloadBytes);
    if (cost > budget && views.length > 0) break;
    budget -= cost;
    const view = viewMessage(message, options);
    // Detection looks at the text as published, with invisible characters dropped, so that
    // neither our own defanging nor zero-width padding hides a pattern; the topic and the payload
    // each get the detector's whole window, so that a long topic cannot push the payload out.
    const raw = view.encoding !== 'base64' ? message.payload.subarray(0, 8192).toString('utf8') : '';
    const reasons = [
      ...new Set([
        ...suspiciousReasons(stripInvisible(message.topic)),
        ...suspiciousReasons(stripInvisible(raw)),
      ]),
    ];
    const props = view.properties?.userProperties;
    if (props !== undefined) {
      const shown = Object.entries(props).flat().join(' ').replaceAll(REPLACEMENT, '');
      reasons.push(...suspiciousReasons(shown).map((r) => `property-${r}`));
    }
    if (reasons.length > 0) {
      view.suspicious = true;
      flagged.push({ message, reasons });
    }
    views.push(view);
  }
  return { views, omitted: messages.length - i, flagged };
}

export function ageSeconds(receivedAt: number, now: number): number {
  return Math.max(0, Math.round((now - receivedAt) / 100) / 10);
}

/** Drop an incomplete UTF-8 sequence at the end of a cut buffer, so a cut text stays text. */
function trimPartialUtf8(bytes: Buffer): Buffer {
  const n = bytes.byteLength;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = bytes[n - back] as number;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    if ((b & 0x80) === 0) return bytes; // ASCII: complete
    const need = (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 1;
    return need > back ? bytes.subarray(0, n - back) : bytes;
  }
  return bytes;
}
