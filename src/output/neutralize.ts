/**
 * Neutralises text that comes from the broker (payloads, topic names, properties) before a
 * model sees it:
 * - ANSI escape sequences are removed;
 * - other C0/C1 control characters (except newline and tab), zero-width and bidi controls and
 *   Unicode tag characters (the "ASCII smuggling" block) are replaced by U+FFFD, so that the
 *   model can see that something was there without being able to read hidden text.
 * - markup that imitates prompt structure (`<system>`, `</IMPORTANT>`) or our own data markers
 *   gets its `<` replaced by a look-alike (U+2039).
 * Linear time; returns the input unchanged (no copy) when there is nothing to do.
 */

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte ESC sequences.
const ANSI =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]{0,64}[ -/]{0,16}[@-~]|\u001b\][^\u0007\u001b]{0,4096}(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

const NEEDS_WORK =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\udb40]/;

export const REPLACEMENT = '\ufffd';

// Markup that imitates prompt structure (<system>, </IMPORTANT>, ...) and our own data markers:
// the `<` becomes a look-alike (U+2039), so the text stays readable but cannot pass for structure.
const FAKE_TAG =
  /<(?=\/?\s{0,4}(?:system|important|instructions?|assistant|user|tool_call|function_call|untrusted|mqtt_data|end_mqtt_data)\b)/gi;
const FAKE_MARKER = /<<<(?=\s{0,4}(?:END_)?MQTT_DATA)/gi;
const HAS_MARKUP =
  /<\/?\s{0,4}(?:system|important|instructions?|assistant|user|tool_call|function_call|untrusted|mqtt_data|end_mqtt_data)\b|<<<\s{0,4}(?:END_)?MQTT_DATA/i;

export function neutralize(text: string): string {
  let out = text;
  if (NEEDS_WORK.test(out)) {
    if (out.includes('\u001b')) out = out.replace(ANSI, '');
    out = replaceInvisible(out, REPLACEMENT);
  }
  if (HAS_MARKUP.test(out)) out = out.replace(FAKE_MARKER, '\u2039\u2039\u2039').replace(FAKE_TAG, '\u2039');
  return out;
}

/** The text with escapes and invisible characters removed (not replaced): for detection only. */
export function stripInvisible(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return replaceInvisible(text.includes('\u001b') ? text.replace(ANSI, '') : text, '');
}

/** One pass over the UTF-16 code units; same set as INVISIBLE, without a regex replace. */
function replaceInvisible(text: string, replacement: string): string {
  const parts: string[] = [];
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let width = 0;
    if (c < 0x20) width = c === 0x09 || c === 0x0a ? 0 : 1;
    else if (c < 0x7f) continue;
    else if (c <= 0x9f) width = 1;
    else if (c === 0x061c || c === 0x180e || c === 0xfeff || (c >= 0xfff9 && c <= 0xfffb)) width = 1;
    else if (
      (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2060 && c <= 0x2064) ||
      (c >= 0x2066 && c <= 0x2069)
    )
      width = 1;
    else if (c === 0xdb40) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdc7f) width = 2; // a Unicode tag character (U+E0000..U+E007F)
    }
    if (width === 0) continue;
    if (i > last) parts.push(text.slice(last, i));
    parts.push(replacement);
    i += width - 1;
    last = i + 1;
  }
  if (last === 0) return text;
  if (last < n) parts.push(text.slice(last));
  return parts.join('');
}
