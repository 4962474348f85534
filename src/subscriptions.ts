/**
 * The collection filters (background subscriptions feeding the store) and the short-lived
 * subscriptions of waiting tool calls, reference-counted per exact filter so that the broker
 * subscription stays while anyone needs it.
 *
 * Filters an agent adds belong to the principal that added them: each principal sees, counts
 * against its own quota and can remove only its own (and the operator's configured filters,
 * which nobody can remove); other principals' filters are shown as a count. Two principals
 * adding the same filter share one broker subscription.
 *
 * Coverage says how much of a request filter the collection really receives now: only filters
 * the broker has granted on the current connection count (see BrokerLink.grantedAt).
 */
import type { BrokerLink } from './bridge.js';
import { BridgeError } from './errors.js';
import { filterCovers, filtersOverlap } from './mqtt/topic.js';

export type SubscriptionSource = 'configured' | 'agent';

export interface CollectionFilter {
  readonly filter: string;
  readonly source: SubscriptionSource;
}

/**
 * 'full': a filter the broker granted on the current connection covers the request; 'partial':
 * granted filters cover only some of it; 'pending': collection filters would cover it, but the
 * broker has not granted them now (not connected, or the SUBACK is still awaited); 'none'.
 */
export type Coverage = 'full' | 'partial' | 'pending' | 'none';

export interface CoverageInfo {
  readonly coverage: Coverage;
  /** 'full' and 'partial': when the broker granted the (earliest) covering filter on this connection. */
  readonly since?: number;
}

export interface SubscriptionLimits {
  /** Collection filters in all (configured and added), one broker subscription each. */
  readonly total: number;
  /** Filters one principal may add. */
  readonly perPrincipal: number;
}

export class Subscriptions {
  private readonly configured: ReadonlySet<string>;
  /** Added filters and the principals that added them. */
  private readonly added = new Map<string, Set<string>>();
  private readonly owned = new Map<string, number>();
  private readonly temporary = new Map<string, number>();

  constructor(
    private readonly link: BrokerLink,
    configured: readonly string[],
    private readonly limits: SubscriptionLimits,
  ) {
    this.configured = new Set(configured);
  }

  /** Subscribe the configured filters (they are renewed on every reconnect by the link). */
  async start(): Promise<void> {
    for (const filter of this.configured) await this.link.subscribe(filter);
  }

  /** What a principal may see: the configured filters, its own, and how many other principals added. */
  list(principal: string): { filters: CollectionFilter[]; others: number } {
    const filters: CollectionFilter[] = [...this.configured].map((filter) => ({
      filter,
      source: 'configured',
    }));
    let others = 0;
    for (const [filter, owners] of this.added) {
      if (this.configured.has(filter)) continue;
      if (owners.has(principal)) filters.push({ filter, source: 'agent' });
      else others++;
    }
    return { filters, others };
  }

  /** How much of what the filter matches the collection receives now (for every principal alike). */
  coverage(filter: string): CoverageInfo {
    let since: number | undefined;
    let partial = false;
    let pending = false;
    for (const active of this.active()) {
      const covers = filterCovers(active, filter);
      if (!covers && !filtersOverlap(active, filter)) continue;
      const granted = this.link.grantedAt(active);
      if (granted === undefined) pending = true;
      else if (covers) since = since === undefined ? granted : Math.min(since, granted);
      else partial = true;
    }
    if (since !== undefined) return { coverage: 'full', since };
    if (partial) return { coverage: 'partial' };
    return { coverage: pending ? 'pending' : 'none' };
  }

  /** Add a collection filter for this principal; false when it already collects it. */
  async add(filter: string, principal: string): Promise<boolean> {
    const owners = this.added.get(filter);
    if (this.configured.has(filter) || owners?.has(principal) === true) return false;
    const mine = this.owned.get(principal) ?? 0;
    if (mine >= this.limits.perPrincipal) {
      throw new BridgeError(
        'INVALID_INPUT',
        `you already added ${mine} collection filters (the limit per client, MCP_MAX_SUBSCRIPTIONS_PER_CLIENT); remove one with mqtt_unsubscribe first`,
      );
    }
    if (owners === undefined) {
      const total = this.configured.size + this.added.size;
      if (total >= this.limits.total) {
        throw new BridgeError(
          'BUSY',
          `the bridge already collects ${total} filters (the limit, MCP_MAX_SUBSCRIPTIONS); remove one of yours with mqtt_unsubscribe, or ask the operator`,
        );
      }
      this.added.set(filter, new Set([principal]));
      try {
        // Also when a live wait holds the same filter: the collection wants retained values too.
        await this.link.subscribe(filter);
      } catch (error) {
        this.added.delete(filter);
        throw error;
      }
    } else {
      owners.add(principal);
    }
    this.owned.set(principal, mine + 1);
    return true;
  }

  /** Remove a filter this principal added; another principal's filter is "not found", like an unknown one. */
  async remove(filter: string, principal: string): Promise<void> {
    if (this.configured.has(filter)) {
      throw new BridgeError(
        'POLICY_DENIED',
        'that filter is configured by the operator (MQTT_SUBSCRIBE) and cannot be removed',
      );
    }
    const owners = this.added.get(filter);
    if (owners === undefined || !owners.delete(principal)) {
      throw new BridgeError(
        'NOT_FOUND',
        'that is not a collection filter you added; yours are listed by mqtt_status (the filter must match exactly)',
      );
    }
    const mine = (this.owned.get(principal) ?? 1) - 1;
    if (mine <= 0) this.owned.delete(principal);
    else this.owned.set(principal, mine);
    if (owners.size > 0) return;
    this.added.delete(filter);
    if (this.shared || !this.temporary.has(filter)) await this.link.unsubscribe(filter);
  }

  /**
   * A live subscription for a waiting call (or a resource subscription), unless a granted
   * collection filter already covers it. With a share group the collection receives only this
   * replica's share, so a live subscription of its own is always made. Returns the release
   * function.
   */
  async acquireLive(filter: string): Promise<() => Promise<void>> {
    if (!this.shared && this.coverage(filter).coverage === 'full') return async () => undefined;
    const count = this.temporary.get(filter) ?? 0;
    this.temporary.set(filter, count + 1);
    if (count === 0 && (this.shared || !this.isCollected(filter))) {
      try {
        await this.link.subscribe(filter, { live: true });
      } catch (error) {
        this.release(filter);
        throw error;
      }
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (!this.release(filter)) return;
      if (this.shared) await this.link.unsubscribe(filter, { live: true });
      else if (!this.isCollected(filter)) await this.link.unsubscribe(filter);
    };
  }

  /** The collection is a shared subscription (MQTT_SHARE_GROUP). */
  get shared(): boolean {
    return this.link.sharedCollection === true;
  }

  private isCollected(filter: string): boolean {
    return this.configured.has(filter) || this.added.has(filter);
  }

  private *active(): Iterable<string> {
    yield* this.configured;
    for (const filter of this.added.keys()) if (!this.configured.has(filter)) yield filter;
  }

  /** Decrement; true when the last holder left. */
  private release(filter: string): boolean {
    const count = (this.temporary.get(filter) ?? 1) - 1;
    if (count <= 0) {
      this.temporary.delete(filter);
      return true;
    }
    this.temporary.set(filter, count);
    return false;
  }
}
