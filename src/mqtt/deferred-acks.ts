/**
 * At-least-once recording on the MQTT side: a QoS 1 message that a listener holds
 * (IncomingMessage.hold) is acknowledged (PUBACK) only when the holder releases it, after its
 * history batch committed; a full recorder queue pauses the connection's intake instead of
 * dropping a held message. mqtt.js emits 'message' and then calls handleMessage, whose callback
 * sends the PUBACK unless it gets an error; incoming packets are handled one at a time, so
 * holding that callback itself would stall the connection. The hook here answers a held packet's
 * callback with an error (no PUBACK from mqtt.js) and sends the PUBACK itself later, on the same
 * connection or never (the broker then redelivers it, with DUP, on the kept session).
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { AckStats, IncomingMessage } from '../bridge.js';
import type { Logger } from '../logging/logger.js';

/** What a handleMessage callback gets for a deferred message: mqtt.js then sends no PUBACK. */
const DEFERRED = new Error('PUBACK deferred until the message is recorded');
/** Message ids remembered as committed but not acknowledged on a connection that is gone. */
const MAX_STALE_COMMITTED = 65_535;

/** mqtt.js' own packet writer (the one its PUBACK goes through); not in its public types. */
interface RawSend {
  _sendPacket(
    packet: { cmd: 'puback'; messageId: number; reasonCode: number },
    cb: undefined,
    cbStorePut: undefined,
    noStore: boolean,
  ): void;
}

/** Counts of deferred acknowledgements, all zero (a link without at-least-once recording reports these). */
export function noAcks(): { -readonly [K in keyof AckStats]: AckStats[K] } {
  return {
    held: 0,
    sent: 0,
    lostWithConnection: 0,
    duplicatesRemoved: 0,
    redeliveredRecorded: 0,
    sessionsLost: 0,
  };
}

export class DeferredAcks {
  /** Counts connections: a deferred PUBACK is sent only on the connection its message came on. */
  private generation = 0;
  /** Packets whose PUBACK a listener holds (handleMessage then lets mqtt.js skip it). */
  private readonly deferred = new WeakSet<IPublishPacket>();
  /** Message ids committed after their connection was gone (the broker redelivers them with DUP). */
  private readonly staleCommitted = new Set<number>();
  /** pauseIntake(): set until resumed; `stalled` is the callback mqtt.js waits on meanwhile. */
  private intakePaused = false;
  private stalled: (() => void) | undefined;
  private readonly acks = noAcks();

  constructor(
    private readonly client: MqttClient,
    private readonly log: Logger,
    private readonly clientId: string,
  ) {
    client.handleMessage = (packet, callback) => {
      let done = (): void => callback();
      if (packet.cmd === 'publish' && this.deferred.has(packet)) {
        this.deferred.delete(packet);
        done = () => callback(DEFERRED);
      }
      // Intake paused: mqtt.js takes no further packet until this one's callback runs.
      if (this.intakePaused) this.stalled = done;
      else done();
    };
  }

  /**
   * A CONNACK. Without a kept session the remembered ids mean nothing any more; on a reconnect
   * (`reconnected`) that also means what the broker had not delivered is gone, which is said.
   */
  connected(sessionPresent: boolean, reconnected: boolean): void {
    if (sessionPresent) return;
    this.staleCommitted.clear();
    if (!reconnected) return;
    this.acks.sessionsLost++;
    this.log.warn(
      { clientId: this.clientId },
      'the broker kept no session for this replica (expired while away, or a broker restart without persistence): messages published while disconnected and not yet delivered are not in history',
    );
  }

  /** The connection closed: PUBACKs still held can no longer be sent on it. */
  closed(): void {
    this.generation++;
  }

  /**
   * Take no further message from the connection until the returned resume() is called (the
   * message being delivered now is the last). The broker keeps what follows for this session;
   * the socket's own flow control holds the rest.
   */
  pauseIntake(): () => void {
    this.intakePaused = true;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.intakePaused = false;
      const stalled = this.stalled;
      this.stalled = undefined;
      stalled?.();
    };
  }

  stats(): AckStats {
    return { ...this.acks };
  }

  /**
   * The message as listeners get it, with its hold(); undefined for a redelivery of a message
   * already committed on the previous connection (mqtt.js acknowledges it now; not delivered again).
   */
  holdable(message: IncomingMessage, packet: IPublishPacket, messageId: number): IncomingMessage | undefined {
    if (packet.dup && this.staleCommitted.delete(messageId)) {
      this.acks.duplicatesRemoved++;
      return undefined;
    }
    let release: (() => void) | undefined;
    return {
      ...message,
      delivery: { mid: messageId, redelivered: packet.dup },
      hold: () => {
        if (release === undefined) {
          release = this.ackLater(messageId);
          this.deferred.add(packet);
          if (packet.dup) this.acks.redeliveredRecorded++;
        }
        return release;
      },
    };
  }

  /** The PUBACK of a held message, to send once (on the same connection, or never: then it is redelivered). */
  private ackLater(messageId: number): () => void {
    const generation = this.generation;
    this.acks.held++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.acks.held--;
      if (generation === this.generation && this.client.connected) {
        this.acks.sent++;
        // noStore: straight to the socket, like mqtt.js' own PUBACK.
        (this.client as unknown as RawSend)._sendPacket(
          { cmd: 'puback', messageId, reasonCode: 0 },
          undefined,
          undefined,
          true,
        );
        return;
      }
      this.acks.lostWithConnection++;
      if (this.staleCommitted.size >= MAX_STALE_COMMITTED) {
        const oldest = this.staleCommitted.values().next().value;
        if (oldest !== undefined) this.staleCommitted.delete(oldest);
      }
      this.staleCommitted.add(messageId);
    };
  }
}
