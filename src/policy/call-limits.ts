/**
 * Limits on tool calls, checked at the tool boundary before any work: a token bucket per
 * client and tool (publishing has its own, stricter bucket) and a cap on calls one client has
 * running at once. Each refusal says when to retry.
 */
import { BridgeError } from '../errors.js';
import { RateLimiter } from './rate-limit.js';

export interface CallLimitSettings {
  readonly toolRatePerMinute: number;
  readonly publishRatePerMinute: number;
  readonly maxConcurrentCalls: number;
}

/** Tools that publish: they share one bucket per client, the strict publish rate. */
const PUBLISH_TOOLS: ReadonlySet<string> = new Set(['mqtt_publish', 'mqtt_sparkplug_rebirth']);
const PUBLISH_BURST = 5;

export class CallLimits {
  private readonly tools: RateLimiter;
  private readonly publish: RateLimiter;
  private readonly running = new Map<string, number>();

  constructor(private readonly settings: CallLimitSettings) {
    const rate = settings.toolRatePerMinute;
    this.tools = new RateLimiter(Math.max(1, Math.ceil(rate / 5)), rate / 60);
    const publish = settings.publishRatePerMinute;
    // Bursts of 5 at the default rates; a high configured rate allows a second's worth.
    this.publish = new RateLimiter(
      Math.max(Math.min(PUBLISH_BURST, publish), Math.floor(publish / 60)),
      publish / 60,
    );
  }

  /** Admit one call or throw RATE_LIMITED / BUSY; the returned function ends the call. */
  admit(client: string, tool: string, now: number): () => void {
    const publishing = PUBLISH_TOOLS.has(tool);
    const limiter = publishing ? this.publish : this.tools;
    const decision = limiter.take(`${client}\u0000${publishing ? 'publish' : tool}`, now);
    if (!decision.ok) {
      throw new BridgeError(
        'RATE_LIMITED',
        publishing
          ? `too many publishes: the limit is ${this.settings.publishRatePerMinute} per minute for all publishing tools together`
          : `too many ${tool} calls: the limit is ${this.settings.toolRatePerMinute} per minute`,
        { retryAfterSeconds: decision.retryAfterSeconds },
      );
    }
    const count = this.running.get(client) ?? 0;
    if (count >= this.settings.maxConcurrentCalls) {
      throw new BridgeError(
        'BUSY',
        `${count} calls of this client are still running (the limit is ${this.settings.maxConcurrentCalls}); wait for one to finish`,
        { retryAfterSeconds: 1 },
      );
    }
    this.running.set(client, count + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.running.get(client) ?? 1) - 1;
      if (left <= 0) this.running.delete(client);
      else this.running.set(client, left);
    };
  }
}
