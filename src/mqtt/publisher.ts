/**
 * Publishing on a connected mqtt.js client without ever leaving a message behind: each publish
 * has a deadline; a publish that times out or whose connection drops is failed at once and
 * removed from mqtt.js' outgoing store, so it is never re-sent after a reconnect; refusals by the
 * broker (MQTT 5 reason codes) become errors.
 */
import type { MqttClient } from 'mqtt';
import type { PublishReceipt, PublishRequest } from '../bridge.js';
import { BridgeError } from '../errors.js';
import { reasonText } from './explain.js';

type Callback = (error?: Error, packet?: unknown) => void;

interface Pending {
  readonly callback: Callback;
  fail(error: BridgeError): void;
}

export class Publisher {
  private readonly pending = new Set<Pending>();

  constructor(
    private readonly client: MqttClient,
    private readonly options: { readonly timeoutMs: number; readonly protocolVersion: () => 4 | 5 },
  ) {}

  /** Publishes in flight. */
  get size(): number {
    return this.pending.size;
  }

  /** Publish on the (connected) client; settles exactly once. */
  publish(request: PublishRequest): Promise<PublishReceipt> {
    const { topic, payload, qos, retain } = request;
    return new Promise<PublishReceipt>((resolve, reject) => {
      let settled = false;
      const finish = (error: BridgeError | undefined, receipt?: PublishReceipt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.pending.delete(entry);
        if (error !== undefined) reject(error);
        else resolve(receipt as PublishReceipt);
      };
      const callback: Callback = (error, packet) => {
        if (error === undefined || error === null) finish(undefined, this.receipt(qos, packet));
        else finish(publishError(error));
      };
      const entry: Pending = {
        callback,
        fail: (error) => {
          finish(error);
          // After finish(): removing calls the callback with 'Message removed', now ignored.
          this.dropOutgoing(callback);
        },
      };
      const timer = setTimeout(() => {
        entry.fail(
          new BridgeError(
            'DELIVERY_UNKNOWN',
            `no acknowledgement from the broker within ${this.options.timeoutMs} ms; delivery is unknown (the message was removed from the outgoing queue and will not be re-sent)`,
          ),
        );
      }, this.options.timeoutMs);
      this.pending.add(entry);
      try {
        this.client.publish(topic, payload, { qos, retain }, callback);
      } catch (error) {
        entry.fail(publishError(error as Error));
      }
    });
  }

  /** Fail every publish in flight (connection lost, shutting down). */
  failAll(error: BridgeError): void {
    for (const entry of [...this.pending]) entry.fail(error);
  }

  private receipt(qos: 0 | 1 | 2, packet: unknown): PublishReceipt {
    if (qos === 0) {
      return {
        delivery: 'sent',
        reasonCode: undefined,
        reason: 'written to the connection (QoS 0 has no acknowledgement)',
      };
    }
    if (this.options.protocolVersion() === 4) {
      // MQTT 3.1.1 acknowledgements carry no reason code, and none is made up here.
      return {
        delivery: 'acknowledged',
        reasonCode: undefined,
        reason:
          'acknowledged by the broker (MQTT 3.1.1 cannot report an ACL refusal; it may still have been dropped)',
      };
    }
    // MQTT 5: a PUBACK/PUBCOMP without a reason code means 0, success (MQTT 5.0, 3.4.2.1).
    return {
      delivery: 'acknowledged',
      reasonCode: (packet as { reasonCode?: number } | undefined)?.reasonCode ?? 0,
      reason: 'acknowledged by the broker',
    };
  }

  /** Remove our message from mqtt.js' outgoing store, so that it is never re-sent. */
  private dropOutgoing(callback: Callback): void {
    for (const [id, out] of Object.entries(this.client.outgoing)) {
      if (out.cb === callback) this.client.removeOutgoingMessage(Number(id));
    }
  }
}

function publishError(error: Error): BridgeError {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number') {
    if (code === 0x87) {
      return new BridgeError(
        'NOT_AUTHORIZED',
        'the broker refused the publish: not authorized (reason code 135); its ACL does not let this client write to that topic',
      );
    }
    return new BridgeError(
      'PUBLISH_REFUSED',
      `the broker refused the publish: ${reasonText(code)} (reason code ${code})`,
    );
  }
  if (error.message === 'client disconnecting' || error.message === 'Connection closed') {
    return new BridgeError(
      'DELIVERY_UNKNOWN',
      'the connection closed before the broker acknowledged the publish; delivery is unknown',
    );
  }
  return new BridgeError(
    'DELIVERY_UNKNOWN',
    'the publish failed before the broker acknowledged it; delivery is unknown',
  );
}
