/**
 * Token buckets per key (a principal, a principal and a tool, ...): `capacity` tokens, refilled
 * continuously at `perSecond`. The key map is bounded; the least recently used keys go first.
 * Pure: the caller passes the time.
 */

export interface RateDecision {
  readonly ok: boolean;
  /** Seconds until one token is available again (0 when ok). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Take one token for `key` at time `now` (ms). */
  take(key: string, now: number): RateDecision {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, at: now };
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    } else {
      this.buckets.delete(key); // re-inserted below: Map order is the LRU order
      bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
      bucket.at = now;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, retryAfterSeconds: 0 };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  /** A limiter allowing `perMinute` requests a minute, with bursts of up to that many. */
  static perMinute(perMinute: number, maxKeys?: number): RateLimiter {
    return new RateLimiter(perMinute, perMinute / 60, maxKeys);
  }
}
