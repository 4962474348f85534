/**
 * Text that reaches a picture: neutralised like every other output (no control, bidi or tag
 * characters; no markup that imitates prompt structure), on one line, and bounded in length with
 * an ellipsis in the middle (the ends of a topic name are what tell topics apart). Widths are
 * estimated from the character count: the layout leaves room for the widest labels it draws.
 */
import { neutralize } from '../output/neutralize.js';

const ELLIPSIS = '\u2026';

export function label(text: string, maxChars: number): string {
  // Cut before neutralising, so that a 64 KiB topic costs no more than a short one.
  const long = text.length > maxChars * 8;
  const source = long ? text.slice(0, maxChars * 4) + text.slice(-maxChars * 4) : text;
  const clean = Array.from(neutralize(source).replace(/[\n\t]/g, ' '));
  if (!long && clean.length <= maxChars) return clean.join('');
  const keep = Math.max(1, maxChars - 1);
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return clean.slice(0, head).join('') + ELLIPSIS + (tail > 0 ? clean.slice(-tail).join('') : '');
}

/** Estimated advance width of `text` at `fontSize` px in the chart's font (Inter), a slight overestimate. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (isWide(c)) em += 1;
    else if (c === 0x20 || c === 0x2e || c === 0x2c || c === 0x3a || c === 0x2f || c === 0x69 || c === 0x6c)
      em += 0.34; // space . , : / i l
    else if (c >= 0x41 && c <= 0x5a)
      em += 0.7; // capitals
    else em += 0.6;
  }
  return em * fontSize;
}

function isWide(c: number): boolean {
  return (
    (c >= 0x1100 && c <= 0x115f) ||
    (c >= 0x2e80 && c <= 0xa4cf) ||
    (c >= 0xac00 && c <= 0xd7a3) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xfe30 && c <= 0xfe4f) ||
    (c >= 0xff00 && c <= 0xff60) ||
    (c >= 0xffe0 && c <= 0xffe6) ||
    (c >= 0x1f300 && c <= 0x1faff) ||
    (c >= 0x20000 && c <= 0x3fffd)
  );
}
