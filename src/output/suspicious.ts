/**
 * Flags broker text that looks like instructions to a model (prompt injection). Detection
 * only: the message is still returned, marked `suspicious: true`, and an audit line records
 * the topic and a hash. Pattern filters are easy to evade (OWASP), so this is telemetry, not a
 * control. Every pattern is a plain alternation without nested quantifiers (linear time), and
 * only the first 8 KiB of a text are examined.
 */

const PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'override',
    /\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|guidelines|above|previous)\b/i,
  ],
  ['role', /\b(you are now|act as|pretend to be|new instructions|from now on)\b/i],
  ['system-prompt', /\b(system prompt|developer message|jailbreak)\b/i],
  ['fake-tag', /<\/?\s*(system|important|instructions?|assistant|tool_call|function_call)\b/i],
  [
    'tool-call',
    /\bmqtt_(publish|subscribe|unsubscribe|read_messages|get_latest|wait_for_messages|list_topics|status)\b/i,
  ],
  [
    'imperative-publish',
    /\b(publish|send|unlock|open|disable)\b.{0,30}\b(to|the)\b.{0,30}\/(cmd|command|set)\b/i,
  ],
  ['url', /\bhttps?:\/\/[^\s]{3,}/i],
];

const MAX_EXAMINED = 8192;

/** The reasons a text looks like instructions, or an empty list. */
export function suspiciousReasons(text: string): string[] {
  const sample = text.length > MAX_EXAMINED ? text.slice(0, MAX_EXAMINED) : text;
  const reasons: string[] = [];
  for (const [name, pattern] of PATTERNS) if (pattern.test(sample)) reasons.push(name);
  return reasons;
}
