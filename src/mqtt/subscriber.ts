/**
 * The broker subscriptions the bridge wants, held across reconnects (mqtt.js' own
 * resubscribe is off) and sent again on every connect. A "live" subscription asks an MQTT 5
 * broker not to replay retained messages (retain handling 2), for waits that want only what
 * arrives next. A refusal in the SUBACK is an error.
 */
import type { MqttClient } from 'mqtt';
import { BridgeError } from '../errors.js';
import { reasonText } from './explain.js';
import { quoteTopic } from './topic.js';

export class BrokerSubscriptions {
  private readonly wanted = new Map<string, { live: boolean }>();

  constructor(
    private readonly client: MqttClient,
    private readonly options: { readonly qos: 0 | 1 | 2; readonly protocolVersion: 4 | 5 },
  ) {}

  filters(): string[] {
    return [...this.wanted.keys()];
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
    if (!this.wanted.delete(filter) || !connected) return;
    await this.client.unsubscribeAsync(filter);
  }

  /** Subscribe everything wanted again (after a connect). */
  async renew(): Promise<void> {
    const filters = this.filters();
    if (filters.length > 0) await this.send(filters);
  }

  private async send(filters: string[]): Promise<void> {
    const v5 = this.options.protocolVersion === 5;
    const qos = this.options.qos;
    const map: Record<string, { qos: 0 | 1 | 2; rh?: number }> = {};
    for (const filter of filters) {
      const live = this.wanted.get(filter)?.live === true;
      map[filter] = v5 && live ? { qos, rh: 2 } : { qos };
    }
    let granted: Array<{ topic: string; qos: number }>;
    try {
      granted = await this.client.subscribeAsync(map);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') {
        throw new BridgeError(
          code === 0x87 ? 'NOT_AUTHORIZED' : 'PUBLISH_REFUSED',
          `the broker refused the subscription: ${reasonText(code)} (${code})`,
        );
      }
      throw new BridgeError(
        'BROKER_UNAVAILABLE',
        'the subscription could not be sent; the connection was lost',
      );
    }
    const refused = granted.find((g) => g.qos >= 0x80);
    if (refused !== undefined) {
      throw new BridgeError(
        refused.qos === 0x87 ? 'NOT_AUTHORIZED' : 'PUBLISH_REFUSED',
        `the broker refused the subscription to ${quoteTopic(refused.topic)}: ${reasonText(refused.qos)} (${refused.qos})`,
      );
    }
  }
}
