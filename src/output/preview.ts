/**
 * What the user is shown before a confirmed publish: the topic and the payload exactly as they
 * will be sent, so that what is approved is what goes out.
 * - Text is shown with every character that could hide or reorder what is read made visible:
 *   control, format, bidi, invisible and separator characters as \u{...} escapes, newlines and
 *   tabs as \n and \t, runs of spaces as "[N spaces]" (a renderer may collapse them; a payload may
 *   use them to push a second instruction out of view).
 * - Bytes that are not UTF-8 are shown as hex.
 * - The exact size and the SHA-256 of the payload are always shown.
 * - A payload too long to show is cut with an explicit "cut after N of M bytes"; one of which
 *   less than half can be shown is not offered for confirmation at all (undefined).
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';

/** Characters of the shown form (escapes included) a preview may hold. */
export const PREVIEW_CHARS = 2000;

/** Characters that must be made visible: C0/C1 controls, format (Cf), line and paragraph
 * separators, default-ignorable code points and variation selectors, and the replacement
 * character itself (so that a literal U+FFFD cannot pass for one of our own markers). */
const HIDDEN =
  /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}\u{FFFD}]/u;

export interface Preview {
  /** The shown form of the payload (possibly cut). */
  readonly shown: string;
  /** Bytes of the payload the shown form covers. */
  readonly shownBytes: number;
  readonly totalBytes: number;
  readonly kind: 'text' | 'hex';
  readonly sha256: string;
}

/** A faithful visible form of text: escapes for hidden characters, counts for runs of spaces. */
export function visible(text: string): string {
  let out = '';
  let spaces = 0;
  const flush = () => {
    if (spaces > 3) out += `[${spaces} spaces]`;
    else out += ' '.repeat(spaces);
    spaces = 0;
  };
  for (const ch of text) {
    if (ch === ' ') {
      spaces++;
      continue;
    }
    if (spaces > 0) flush();
    if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\\') out += '\\\\';
    else if (HIDDEN.test(ch)) out += `\\u{${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}}`;
    else out += ch;
  }
  if (spaces > 0) flush();
  return out;
}

/** The preview of a payload, or undefined when it cannot be shown faithfully enough to confirm. */
export function previewPayload(payload: Buffer): Preview | undefined {
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const totalBytes = payload.byteLength;
  if (isUtf8(payload)) {
    const text = payload.toString('utf8');
    let shown = '';
    let shownBytes = 0;
    for (const ch of text) {
      const part = visible(ch);
      if (shown.length + part.length > PREVIEW_CHARS) break;
      shown += part;
      shownBytes += Buffer.byteLength(ch);
    }
    if (shownBytes < totalBytes && shownBytes * 2 < totalBytes) return undefined;
    // Runs of spaces are counted on the whole shown text, not character by character.
    const cut = payload.subarray(0, shownBytes).toString('utf8');
    return { shown: visible(cut), shownBytes, totalBytes, kind: 'text', sha256 };
  }
  const shownBytes = Math.min(totalBytes, PREVIEW_CHARS / 2);
  if (shownBytes * 2 < totalBytes) return undefined;
  return {
    shown: payload.subarray(0, shownBytes).toString('hex'),
    shownBytes,
    totalBytes,
    kind: 'hex',
    sha256,
  };
}

/** The whole confirmation message for a publish. */
export function confirmationMessage(
  topic: string,
  preview: Preview,
  options: { qos: number; retain: boolean },
): string {
  const flags = `QoS ${options.qos}${options.retain ? ', retained' : ''}`;
  const cut =
    preview.shownBytes < preview.totalBytes
      ? `\n[cut after ${preview.shownBytes} of ${preview.totalBytes} bytes: the rest is not shown]`
      : '';
  return [
    `The assistant wants to publish to the topic ${visible(topic)} (${flags}).`,
    `Payload: ${preview.totalBytes} bytes, SHA-256 ${preview.sha256}, shown ${preview.kind === 'hex' ? 'as hex (not UTF-8 text)' : 'as text (hidden characters escaped, \\u{...})'}:`,
    `${preview.shown}${cut}`,
    'Send it?',
  ].join('\n');
}
