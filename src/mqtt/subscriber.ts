/**
 * The broker subscriptions the bridge wants, held across reconnects (mqtt.js' own
 * resubscribe is off) and sent again on every connect. A "live" subscription asks an MQTT 5
 * broker not to replay retained messages (retain handling 2), for waits that want only what
 * arrives next. A refusal in the SUBACK is an error.
 *
 * Which filters the broker has granted on the current connection is kept too (with the time of
 * the SUBACK): a filter is only collected once its SUBACK says so, and not at all while the
 * connection is down. Reads use this to say how much of a filter they really cover.
 */
import type { MqttClient } from 'mqtt';
import { BridgeError } from '../errors.js';
import { reasonText } from './explain.js';

export class BrokerSubscriptions {
  private readonly wanted = new Map<string, { live: boolean }>();
  /** Filters granted on the current connection, with the time of their SUBACK. */
  private readonly granted = new Map<string, number>();

  constructor(
    private readonly client: MqttClient,
    private readonly options: {
      readonly qos: 0 | 1 | 2;
      readonly protocolVersion: () => 4 | 5;
      readonly now?: () => number;
    },
  ) {}

  filters(): string[] {
    return [...this.wanted.keys()];
  }

  /** When the broker granted this filter on the current connection; undefined: not (yet). */
  grantedAt(filter: string): number | undefined {
    return this.granted.get(filter);
  }

  /** The connection is gone: nothing is granted any more until the next SUBACKs. */
  connectionLost(): void {
    this.granted.clear();
  }

  /** Want a filter; subscribe now when connected (otherwise on the next connect). */
  async add(filter: string, live: boolean, connected: boolean): Promise<void> {
    this.wanted.set(filter, { live });
    if (!connected) return;
    try {
      await this.send([filter]);
    } catch (error) {
      this.wanted.delete(filter);
      throw error;
    }
  }

  async remove(filter: string, connected: boolean): Promise<void> {
    this.granted.delete(filter);
    if (!this.wanted.delete(filter) || !connected) return;
    await this.client.unsubscribeAsync(filter);
  }

  /** Subscribe everything wanted again (after a connect). */
  async renew(): Promise<void> {
    const filters = this.filters();
    if (filters.length > 0) await this.send(filters);
  }

  private async send(filters: string[]): Promise<void> {
    const v5 = this.options.protocolVersion() === 5;
    const qos = this.options.qos;
    const map: Record<string, { qos: 0 | 1 | 2; rh?: number }> = {};
    for (const filter of filters) {
      const live = this.wanted.get(filter)?.live === true;
      map[filter] = v5 && live ? { qos, rh: 2 } : { qos };
    }
    const granted = await this.subscribe(map);
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
  ): Promise<Array<{ topic: string; qos: number }>> {
    const topics = Object.keys(map);
    return new Promise((resolve, reject) => {
      this.client.subscribe(map, (error, granted, packet) => {
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
