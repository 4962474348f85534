/**
 * Secret redaction for any text that leaves the process: log lines, tool error texts and MCP
 * log notifications. Two layers:
 * - patterns: PEM private keys (also JSON-escaped), URL userinfo, Authorization/Bearer
 *   values, JWTs, `password=`-style pairs and well-known token formats;
 * - exact values: every secret the process loaded (and its JSON-escaped form).
 * Every pattern runs in linear time: token-shaped runs are found once with a single character
 * class, and PEM blocks are cut with indexOf, so hostile input cannot cause a ReDoS.
 */

export const REDACTED = '[REDACTED]';

const PEM_BEGIN = '-----BEGIN ';
const PEM_END = '-----END ';
const KEY_MARK = 'PRIVATE KEY-----';

/** Cut every private-key PEM block; an unterminated block is cut to the end of the text. */
function scrubPem(text: string): string {
  let from = text.indexOf(PEM_BEGIN);
  if (from === -1) return text;
  let out = '';
  let last = 0;
  while (from !== -1) {
    const headerEnd = text.indexOf('-----', from + PEM_BEGIN.length);
    // A private-key header: "-----BEGIN <TYPE> PRIVATE KEY-----" (no slicing: hostile input
    // can hold a hundred thousand BEGIN markers).
    if (
      headerEnd !== -1 &&
      headerEnd - from < 60 &&
      text.startsWith(KEY_MARK, headerEnd + 5 - KEY_MARK.length)
    ) {
      const end = text.indexOf(PEM_END, headerEnd + 5);
      const close = end === -1 ? -1 : text.indexOf('-----', end + PEM_END.length);
      out += text.slice(last, from) + '[REDACTED KEY]';
      if (close === -1) return out;
      last = close + 5;
      from = text.indexOf(PEM_BEGIN, last);
    } else {
      from = text.indexOf(PEM_BEGIN, from + PEM_BEGIN.length);
    }
  }
  return out + text.slice(last);
}

// `scheme://user:password@` -> `scheme://user:[REDACTED]@`. The class excludes '/', '@' and
// whitespace, so each candidate is scanned once.
const URL_USERINFO = /:\/\/([^\s/@'"<>]{1,512})@/g;

// `password=...`, `"token": "..."`, `passphrase: ...` and friends: the key and separator are
// found by this regex, the value by scanValue() (quoted values may contain spaces).
const KEY_SEPARATOR =
  /\b(password|passwd|pwd|passphrase|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|authorization)(\\?["']?\s{0,8}[:=]\s{0,8})/gi;

/** End index (exclusive) of the value starting at `from`, and the index where its text starts. */
function scanValue(text: string, from: number): { start: number; end: number } {
  const c = text[from];
  if (c === '\\' && text[from + 1] === '"') {
    // A JSON-escaped quoted value: up to the next \".
    const close = text.indexOf('\\"', from + 2);
    return { start: from + 2, end: close === -1 ? text.length : close };
  }
  if (c === '"' || c === "'") {
    // A quoted value: up to the closing quote, skipping backslash escapes.
    let i = from + 1;
    while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
    return { start: from + 1, end: Math.min(i, text.length) };
  }
  let i = from;
  while (i < text.length && !isValueEnd(text.charCodeAt(i))) i++;
  return { start: from, end: i };
}

/** Whitespace, quotes, backslash, &, comma, semicolon or closing brace end an unquoted value. */
function isValueEnd(c: number): boolean {
  return c <= 32 || c === 34 || c === 39 || c === 92 || c === 38 || c === 44 || c === 59 || c === 125;
}

function scrubKeyValues(text: string): string {
  KEY_SEPARATOR.lastIndex = 0;
  let out = '';
  let last = 0;
  for (let m = KEY_SEPARATOR.exec(text); m !== null; m = KEY_SEPARATOR.exec(text)) {
    const valueAt = m.index + m[0].length;
    if (valueAt < last) continue;
    const { start, end } = scanValue(text, valueAt);
    const value = text.slice(start, end);
    if (end === start || value.startsWith('[REDACTED')) continue;
    out += text.slice(last, start) + REDACTED;
    last = end;
    KEY_SEPARATOR.lastIndex = Math.max(KEY_SEPARATOR.lastIndex, end);
  }
  return last === 0 ? text : out + text.slice(last);
}

// Authorization schemes followed by a credential.
const AUTH_SCHEME = /\b(Bearer|Basic)\s+([A-Za-z0-9._~+/=-]{4,})/gi;

// Token-shaped runs; each run is inspected once for known secret shapes.
const TOKEN_RUN = /[A-Za-z0-9_\-.~+/=]{16,}/g;
const TOKEN_PREFIXES = [
  'eyJ',
  'sk-',
  'ghp_',
  'gho_',
  'ghs_',
  'ghu_',
  'github_pat_',
  'xoxa-',
  'xoxb-',
  'xoxp-',
  'xoxr-',
  'xoxs-',
  'AKIA',
  'ASIA',
  'AIza',
  'glpat-',
];

function scrubTokenRun(run: string): string {
  let cut = -1;
  for (const prefix of TOKEN_PREFIXES) {
    let at = run.indexOf(prefix);
    while (at !== -1) {
      // A prefix counts at the start of the run or after a separator.
      const before = at === 0 ? '' : run[at - 1];
      if (
        before === '' ||
        before === '/' ||
        before === '=' ||
        before === '.' ||
        before === '-' ||
        before === '_'
      ) {
        if (prefix === 'eyJ') {
          // A JWT: header.payload.signature.
          const dots = countDots(run, at);
          if (dots >= 2) cut = cut === -1 ? at : Math.min(cut, at);
        } else if (run.length - at >= prefix.length + 12) {
          cut = cut === -1 ? at : Math.min(cut, at);
        }
        break;
      }
      at = run.indexOf(prefix, at + 1);
    }
  }
  return cut === -1 ? run : run.slice(0, cut) + REDACTED;
}

function countDots(run: string, from: number): number {
  let dots = 0;
  for (let i = from; i < run.length && dots < 2; i++) if (run.charCodeAt(i) === 46) dots++;
  return dots;
}

const AUTH_HINT = /bearer|basic/i;

/**
 * Each pattern runs only when a cheap substring test says it can match: ordinary log lines pay
 * for a few indexOf scans, and hostile input for the one pattern it targets.
 */
export function scrubPatterns(text: string): string {
  let out = scrubPem(text);
  if (out.includes('://') && out.includes('@')) {
    out = out.replace(URL_USERINFO, (_match, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1 ? `://${userinfo}@` : `://${userinfo.slice(0, colon)}:${REDACTED}@`;
    });
  }
  if (AUTH_HINT.test(out)) out = out.replace(AUTH_SCHEME, `$1 ${REDACTED}`);
  out = scrubKeyValues(out);
  if (TOKEN_PREFIXES.some((prefix) => out.includes(prefix))) out = out.replace(TOKEN_RUN, scrubTokenRun);
  return out;
}

/** A scrubber that also removes the exact secret values given (and their JSON-escaped forms). */
export class Scrubber {
  private values: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  /** Register more secret values (e.g. a token read after start-up). Values under 3 characters are ignored. */
  add(secrets: Iterable<string>): void {
    const set = new Set(this.values);
    for (const secret of secrets) {
      if (secret.length < 3) continue;
      set.add(secret);
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret) set.add(escaped);
    }
    // Longest first, so a secret containing another is removed whole.
    this.values = [...set].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const value of this.values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return scrubPatterns(out);
  }
}
