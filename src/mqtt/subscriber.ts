/**
 * The broker subscriptions the bridge wants, held across reconnects (mqtt.js' own
 * resubscribe is off) and sent again on every connect. A "live" subscription asks an MQTT 5
 * broker not to replay retained messages (retain handling 2), for waits that want only what
 * arrives next. A refusal in the SUBACK is an error.
 *
 * Which filters the broker has granted on the current connection is kept too (with the time of
 * the SUBACK): a filter is only collected once its SUBACK says so, and not at all while the
 * connection is down. Reads use this to say how much of a filter they really cover.
 *
 * With a share group (MQTT_SHARE_GROUP) a collection filter goes to the broker as
 * `$share/{group}/{filter}` and a live one as itself: the same filter can then be held twice,
 * once each way. Each kind is sent in a SUBSCRIBE of its own with its Subscription Identifier
 * (MQTT 5), so every message says which kind delivered it (see `routeOf`): a message the
 * replica gets through both is stored once, from its shared copy.
 */
import type { MqttClient } from 'mqtt';
import { BridgeError } from '../errors.js';
import { reasonText } from './explain.js';

/** Subscription Identifiers (MQTT 5) of the two kinds of subscription, with a share group. */
export const COLLECTION_ID = 1;
export const LIVE_ID = 2;

/**
 * What a received message is for, from its Subscription Identifiers: `collect` (store and
 * history; the shared copy), `live` (waiting calls only; the copy of a non-shared live
 * subscription), or `both` (no share group, or no identifier: today's single subscription).
 */
export function routeOf(ids: number | readonly number[] | undefined): 'collect' | 'live' | 'both' {
  if (ids === undefined) return 'both';
  const list = typeof ids === 'number' ? [ids] : ids;
  const collect = list.includes(COLLECTION_ID);
  const live = list.includes(LIVE_ID);
  if (collect === live) return 'both';
  return collect ? 'collect' : 'live';
}

export class BrokerSubscriptions {
  /** By the filter as sent to the broker (`$share/...` for a shared collection filter). */
  private readonly wanted = new Map<string, { live: boolean }>();
  /** Filters granted on the current connection, with the time of their SUBACK. */
  private readonly granted = new Map<string, number>();

  constructor(
    private readonly client: MqttClient,
    private readonly options: {
      readonly qos: 0 | 1 | 2;
      readonly protocolVersion: () => 4 | 5;
      /** MQTT_SHARE_GROUP: collection filters are shared subscriptions of this group. */
      readonly shareGroup?: string | undefined;
      readonly now?: () => number;
    },
  ) {}

  /** The filters as sent to the broker. */
  filters(): string[] {
    return [...this.wanted.keys()];
  }

  /** The filter as the broker gets it: `$share/{group}/{filter}` for collection with a share group. */
  key(filter: string, live: boolean): string {
    const group = this.options.shareGroup;
    return group === undefined || live ? filter : `$share/${group}/${filter}`;
  }

  /** When the broker granted this collection filter on the current connection; undefined: not (yet). */
  grantedAt(filter: string): number | undefined {
    return this.granted.get(this.key(filter, false));
  }

  /** The connection is gone: nothing is granted any more until the next SUBACKs. */
  connectionLost(): void {
    this.granted.clear();
  }

  /** Want a filter; subscribe now when connected (otherwise on the next connect). */
  async add(filter: string, live: boolean, connected: boolean): Promise<void> {
    const key = this.key(filter, live);
    this.wanted.set(key, { live });
    if (!connected) return;
    try {
      await this.send([key]);
    } catch (error) {
      this.wanted.delete(key);
      throw error;
    }
  }

  async remove(filter: string, live: boolean, connected: boolean): Promise<void> {
    const key = this.key(filter, live);
    this.granted.delete(key);
    if (!this.wanted.delete(key) || !connected) return;
    await this.client.unsubscribeAsync(key);
  }

  /** Subscribe everything wanted again (after a connect). */
  async renew(): Promise<void> {
    const filters = this.filters();
    if (filters.length > 0) await this.send(filters);
  }

  private async send(filters: string[]): Promise<void> {
    if (this.options.shareGroup === undefined) {
      await this.sendKind(filters, undefined);
      return;
    }
    const live = filters.filter((f) => this.wanted.get(f)?.live === true);
    const collect = filters.filter((f) => this.wanted.get(f)?.live !== true);
    if (collect.length > 0) await this.sendKind(collect, COLLECTION_ID);
    if (live.length > 0) await this.sendKind(live, LIVE_ID);
  }

  private async sendKind(filters: string[], identifier: number | undefined): Promise<void> {
    const v5 = this.options.protocolVersion() === 5;
    const qos = this.options.qos;
    const map: Record<string, { qos: 0 | 1 | 2; rh?: number }> = {};
    for (const filter of filters) {
      const live = this.wanted.get(filter)?.live === true;
      map[filter] = v5 && live ? { qos, rh: 2 } : { qos };
    }
    const granted = await this.subscribe(map, identifier);
    const at = (this.options.now ?? Date.now)();
    for (const g of granted) {
      if (g.qos < 0x80 && this.wanted.has(g.topic) && this.client.connected) this.granted.set(g.topic, at);
    }
    const refused = granted.find((g) => g.qos >= 0x80);
    if (refused !== undefined) {
      throw new BridgeError(
        refused.qos === 0x87 ? 'NOT_AUTHORIZED' : 'PUBLISH_REFUSED',
        `the broker refused the subscription: ${reasonText(refused.qos)} (${refused.qos})`,
      );
    }
  }

  /**
   * SUBSCRIBE and the code the SUBACK gave each filter. mqtt.js fails the whole call when one
   * code is a refusal; the SUBACK it carries still says which of the others were granted.
   */
  private subscribe(
    map: Record<string, { qos: 0 | 1 | 2; rh?: number }>,
    identifier: number | undefined,
  ): Promise<Array<{ topic: string; qos: number }>> {
    const topics = Object.keys(map);
    const options = identifier === undefined ? {} : { properties: { subscriptionIdentifier: identifier } };
    return new Promise((resolve, reject) => {
      this.client.subscribe(map, options, (error, granted, packet) => {
        if (error === null || error === undefined) {
          resolve((granted ?? []).map((g) => ({ topic: g.topic, qos: g.qos })));
          return;
        }
        const codes = (packet as { granted?: unknown } | undefined)?.granted;
        if (Array.isArray(codes) && codes.length === topics.length) {
          resolve(topics.map((topic, i) => ({ topic, qos: Number(codes[i]) })));
          return;
        }
        reject(
          new BridgeError(
            'BROKER_UNAVAILABLE',
            'the subscription could not be sent; the connection was lost',
            {
              cause: error,
            },
          ),
        );
      });
    });
  }
}
