/**
 * How a stored message is shown to a model: metadata in its own fields, the payload as UTF-8
 * text when the bytes are valid UTF-8 and as base64 otherwise, cut to a per-message cap with
 * `truncated` and the original size reported.
 */
import { isUtf8 } from 'node:buffer';
import type { StoredMessage } from '../store/message-store.js';
import { REPLACEMENT, neutralize, stripInvisible } from './neutralize.js';
import { suspiciousReasons } from './suspicious.js';

export interface MessageView {
  topic: string;
  payload: string;
  encoding: 'utf8' | 'base64';
  qos: 0 | 1 | 2;
  retain: boolean;
  receivedAt: string;
  ageSeconds: number;
  sizeBytes: number;
  truncated: boolean;
  /** Present (true) when the payload or topic looks like instructions to a model. */
  suspicious?: true;
  properties?: { contentType?: string; userProperties?: Record<string, string> };
}

export interface ViewOptions {
  /** Payload bytes shown per message. */
  readonly maxPayloadBytes: number;
  readonly now: number;
}

export function viewMessage(message: StoredMessage, options: ViewOptions): MessageView {
  const stored = message.payload;
  let bytes =
    stored.byteLength > options.maxPayloadBytes ? stored.subarray(0, options.maxPayloadBytes) : stored;
  const cut = bytes.byteLength < message.sizeBytes;
  if (cut) bytes = trimPartialUtf8(bytes);
  const text = isUtf8(bytes);
  const view: MessageView = {
    topic: neutralize(message.topic),
    payload: text ? neutralize(bytes.toString('utf8')) : bytes.toString('base64'),
    encoding: text ? 'utf8' : 'base64',
    qos: message.qos,
    retain: message.retain,
    receivedAt: new Date(message.receivedAt).toISOString(),
    ageSeconds: ageSeconds(message.receivedAt, options.now),
    sizeBytes: message.sizeBytes,
    truncated: cut,
  };
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
  /** Messages left out because the result's payload budget was spent. */
  readonly omitted: number;
  /** Messages shown that were flagged suspicious, with the reasons (for the audit log). */
  readonly flagged: ReadonlyArray<{ readonly message: StoredMessage; readonly reasons: readonly string[] }>;
}

/**
 * Views of several messages for one result, within a total payload budget: once the budget is
 * spent the remaining messages are left out and counted. Flags suspicious ones.
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
    const shown = Math.min(message.storedBytes, options.maxPayloadBytes);
    if (shown > budget && views.length > 0) break;
    budget -= shown;
    const view = viewMessage(message, options);
    // Detection looks at the text as published, with invisible characters dropped, so that
    // neither our own defanging nor zero-width padding hides a pattern; the topic and the payload
    // each get the detector's whole window, so that a long topic cannot push the payload out.
    const raw = view.encoding === 'utf8' ? message.payload.subarray(0, 8192).toString('utf8') : '';
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
