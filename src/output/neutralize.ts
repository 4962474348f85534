/**
 * Neutralises text that comes from the broker (payloads, topic names, properties) before a
 * model sees it:
 * - ANSI escape sequences are removed;
 * - characters a model reads but a person does not see, or that reorder or hide text, are
 *   replaced by U+FFFD, so that the model can see that something was there without being able to
 *   read hidden text. They are picked by Unicode property, not by list: control characters (but
 *   newline and tab), format characters (\p{Cf}: bidi controls, zero-width characters, the soft
 *   hyphen, tags), default-ignorable code points (variation selectors, the combining grapheme
 *   joiner, Hangul fillers, ...) and the line and paragraph separators (\p{Zl}, \p{Zp}).
 *   Emoji keep working: a variation selector 15 or 16 right after an emoji character, and a zero
 *   width joiner between two pictographs, are kept. Neither can carry hidden text (at most one
 *   selector per visible emoji; a joiner only joins two visible pictographs).
 * - markup that imitates prompt structure (`<system>`, `</IMPORTANT>`) or our own data markers
 *   gets its `<` replaced by a look-alike (U+2039).
 * Linear time; returns the input unchanged (no copy) when there is nothing to do.
 */

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte ESC sequences.
const ANSI =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]{0,64}[ -/]{0,16}[@-~]|\u001b\][^\u0007\u001b]{0,4096}(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

// Control characters but tab and newline (\p{Cc} is U+0000-U+001F and U+007F-U+009F).
const INVISIBLE_CLASS =
  '[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}]';
const NEEDS_WORK = new RegExp(INVISIBLE_CLASS, 'u');
const INVISIBLE = new RegExp(INVISIBLE_CLASS, 'gu');

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
    out = out.replace(INVISIBLE, (c: string, at: number, all: string) =>
      partOfEmoji(all, c, at) ? c : REPLACEMENT,
    );
  }
  if (HAS_MARKUP.test(out)) out = out.replace(FAKE_MARKER, '\u2039\u2039\u2039').replace(FAKE_TAG, '\u2039');
  return out;
}

/** The text with escapes and invisible characters removed (not replaced): for detection only. */
export function stripInvisible(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return (text.includes('\u001b') ? text.replace(ANSI, '') : text).replace(INVISIBLE, '');
}

const EMOJI = /^\p{Emoji}$/u;
const PICTOGRAPH = /^\p{Extended_Pictographic}$/u;
const MODIFIER = /^\p{Emoji_Modifier}$/u;

/** The code point before `at`, or ''. */
function before(text: string, at: number): string {
  if (at === 0) return '';
  const low = text.charCodeAt(at - 1);
  const high = at >= 2 ? text.charCodeAt(at - 2) : 0;
  return low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff
    ? text.slice(at - 2, at)
    : text.slice(at - 1, at);
}

/** The code point at `at`, or ''. */
function after(text: string, at: number): string {
  const point = text.codePointAt(at);
  return point === undefined ? '' : String.fromCodePoint(point);
}

/**
 * A variation selector 15 or 16 right after an emoji character (its text or emoji form), or a
 * zero width joiner between two pictographs (the previous one possibly with a skin tone or
 * selector 16): the parts of an emoji sequence that are kept.
 */
function partOfEmoji(text: string, c: string, at: number): boolean {
  if (c === '\ufe0f' || c === '\ufe0e') return EMOJI.test(before(text, at));
  if (c !== '\u200d' || !PICTOGRAPH.test(after(text, at + 1))) return false;
  let previous = before(text, at);
  if (previous === '\ufe0f') {
    const base = before(text, at - 1);
    return PICTOGRAPH.test(base);
  }
  if (MODIFIER.test(previous)) previous = before(text, at - previous.length);
  return PICTOGRAPH.test(previous);
}
