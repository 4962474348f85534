/**
 * The collection filters (background subscriptions feeding the store) and the short-lived
 * subscriptions of waiting tool calls, reference-counted per exact filter so that the broker
 * subscription stays while anyone needs it.
 */
import type { BrokerLink } from './bridge.js';
import { BridgeError } from './errors.js';
import { filterCovers, filtersOverlap, quoteTopic } from './mqtt/topic.js';

export type SubscriptionSource = 'configured' | 'agent';

export interface CollectionFilter {
  readonly filter: string;
  readonly source: SubscriptionSource;
}

export type Coverage = 'full' | 'partial' | 'none';

export class Subscriptions {
  private readonly collection = new Map<string, SubscriptionSource>();
  private readonly temporary = new Map<string, number>();

  constructor(
    private readonly link: BrokerLink,
    configured: readonly string[],
    private readonly max: number,
  ) {
    for (const filter of configured) this.collection.set(filter, 'configured');
  }

  /** Subscribe the configured filters (they are renewed on every reconnect by the link). */
  async start(): Promise<void> {
    for (const filter of this.collection.keys()) await this.link.subscribe(filter);
  }

  list(): CollectionFilter[] {
    return [...this.collection].map(([filter, source]) => ({ filter, source }));
  }

  /** Is everything the filter matches collected in the background ('full'), some of it, or none? */
  coverage(filter: string): Coverage {
    let partial = false;
    for (const active of this.collection.keys()) {
      if (filterCovers(active, filter)) return 'full';
      if (!partial && filtersOverlap(active, filter)) partial = true;
    }
    return partial ? 'partial' : 'none';
  }

  async add(filter: string): Promise<boolean> {
    if (this.collection.has(filter)) return false;
    if (this.collection.size >= this.max) {
      throw new BridgeError(
        'INVALID_INPUT',
        `already ${this.collection.size} collection filters (the limit, MCP_MAX_SUBSCRIPTIONS); remove one with mqtt_unsubscribe first`,
      );
    }
    this.collection.set(filter, 'agent');
    try {
      await this.link.subscribe(filter);
    } catch (error) {
      this.collection.delete(filter);
      throw error;
    }
    return true;
  }

  async remove(filter: string): Promise<void> {
    const source = this.collection.get(filter);
    if (source === undefined) {
      throw new BridgeError(
        'NOT_FOUND',
        `${quoteTopic(filter)} is not a collection filter; active filters are listed by mqtt_status (the filter must match exactly)`,
      );
    }
    if (source === 'configured') {
      throw new BridgeError(
        'POLICY_DENIED',
        `${quoteTopic(filter)} is configured by the operator (MQTT_SUBSCRIBE) and cannot be removed`,
      );
    }
    this.collection.delete(filter);
    if (!this.temporary.has(filter)) await this.link.unsubscribe(filter);
  }

  /**
   * A live subscription for a waiting call, unless the collection already covers the filter.
   * Returns the release function.
   */
  async acquireLive(filter: string): Promise<() => Promise<void>> {
    if (this.coverage(filter) === 'full') return async () => undefined;
    const count = this.temporary.get(filter) ?? 0;
    this.temporary.set(filter, count + 1);
    if (count === 0 && !this.collection.has(filter)) {
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
      if (this.release(filter) && !this.collection.has(filter)) await this.link.unsubscribe(filter);
    };
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
