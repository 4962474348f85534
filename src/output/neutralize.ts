/**
 * Neutralises text that comes from the broker (payloads, topic names, properties) before a
 * model sees it:
 * - ANSI escape sequences are removed;
 * - other C0/C1 control characters (except newline and tab), zero-width and bidi controls and
 *   Unicode tag characters (the "ASCII smuggling" block) are replaced by U+FFFD, so that the
 *   model can see that something was there without being able to read hidden text.
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

export function neutralize(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  return text.replace(ANSI, '').replace(INVISIBLE, REPLACEMENT);
}
