/** Reconnect delays: exponential backoff, capped, with jitter (mqtt.js has a fixed interval). */

/** Exponential backoff with "equal jitter": half of each delay fixed, half random, capped. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
