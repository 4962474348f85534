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

const INVISIBLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]|\udb40[\udc00-\udc7f]/g;

const NEEDS_WORK =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\udb40]/;

export const REPLACEMENT = '\ufffd';

// Markup that imitates prompt structure (<system>, </IMPORTANT>, ...) and our own data markers:
// the `<` becomes a look-alike, so the text stays readable but cannot pass for structure.
const FAKE_MARKUP =
  /<(?=\/?\s{0,4}(?:system|important|instructions?|assistant|user|tool_call|function_call|untrusted|mqtt_data|end_mqtt_data)\b)|<<<(?=\s{0,4}(?:END_)?MQTT_DATA)/gi;
const HAS_MARKUP =
  /<\/?\s{0,4}(?:system|important|instructions?|assistant|user|tool_call|function_call|untrusted|mqtt_data|end_mqtt_data)\b|<<<\s{0,4}(?:END_)?MQTT_DATA/i;

export function neutralize(text: string): string {
  let out = text;
  if (NEEDS_WORK.test(out)) out = out.replace(ANSI, '').replace(INVISIBLE, REPLACEMENT);
  if (HAS_MARKUP.test(out))
    out = out.replace(FAKE_MARKUP, (m) => (m === '<' ? '\u2039' : '\u2039\u2039\u2039'));
  return out;
}
