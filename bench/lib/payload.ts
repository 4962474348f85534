/**
 * Payloads and topic names of the bench. The typical payload is a 60-byte JSON telemetry
 * object; other sizes are JSON too (a padded string field), so that text stays text.
 */

const TYPICAL = '{"t":21.5,"unit":"C","ok":true,"seq":123456,"device":"pump"}';

/** A JSON payload of exactly `size` bytes (size >= 2); 60 gives the typical telemetry object. */
export function jsonPayload(size: number): string {
  if (size === TYPICAL.length) return TYPICAL;
  if (size < 12) return 'x'.repeat(size);
  return `{"pad":"${'x'.repeat(size - 10)}"}`;
}

export const TYPICAL_PAYLOAD = TYPICAL;

export type TopicScheme = 'flat' | 'tree';

/**
 * The i-th topic of a scheme under `prefix`:
 * - flat: prefix/t<i>
 * - tree: prefix/s<i%10>/d<(i/10)%100>/m<i/1000> (10 sites, 100 devices, metrics), which makes
 *   10,000 topics four levels deep with wildcards of every kind meaningful.
 */
export function topicName(prefix: string, scheme: TopicScheme, i: number): string {
  if (scheme === 'flat') return `${prefix}/t${i}`;
  return `${prefix}/s${i % 10}/d${Math.floor(i / 10) % 100}/m${Math.floor(i / 1000)}`;
}
