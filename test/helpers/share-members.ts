/**
 * What a broker does with a shared-subscription member that disappears, as docs/SCALING.md states
 * it for Mosquitto: two raw MQTT 5 clients in one group, one never acknowledging and then killed
 * (socket destroyed, no DISCONNECT) with messages in flight. Registered against the installed
 * Mosquitto (test/integration/replicas-ack.test.ts) and against Debian trixie's newer one in a
 * container (test/docker/mosquitto-share.test.ts), so the page is checked on both versions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { sleep, waitFor } from './broker.js';

export interface ShareBroker {
  readonly port: number;
  /** A client identity the broker lets read and write `plant/#`, for the members and the publisher. */
  readonly tls: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer };
  /** Resolves once the broker's log shows the pattern. */
  waitForLog(pattern: RegExp): Promise<unknown>;
}

interface Member {
  readonly client: MqttClient;
  readonly got: Array<{ payload: string; dup: boolean }>;
}

export function describeShareMembers(label: string, target: () => ShareBroker): void {
  const connect = (clientId: string, expiry: number): Promise<MqttClient> => {
    const { port, tls } = target();
    return mqtt.connectAsync({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port,
      protocolVersion: 5,
      ...tls,
      reconnectPeriod: 0,
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: expiry, receiveMaximum: 1000 },
    });
  };

  /**
   * A member of share group `g` on `filter`. `ack: false` never acknowledges (mqtt.js'
   * handleMessage gets an error, so it sends no PUBACK), like a bridge whose batch is not committed.
   */
  const member = async (
    id: string,
    filter: string,
    options: { ack: boolean; expiry: number },
  ): Promise<Member> => {
    const client = await connect(id, options.expiry);
    const got: Member['got'] = [];
    client.on('message', (_topic, payload, packet: IPublishPacket) =>
      got.push({ payload: payload.toString(), dup: packet.dup }),
    );
    if (!options.ack) client.handleMessage = (_packet, callback) => callback(new Error('not acknowledged'));
    await client.subscribeAsync(`$share/g/${filter}`, { qos: 1 });
    return { client, got };
  };

  const publish = async (topic: string, from: number, to: number): Promise<void> => {
    const client = await connect(`share-publisher-${topic.replaceAll('/', '-')}`, 0);
    try {
      for (let i = from; i < to; i++) await client.publishAsync(topic, String(i), { qos: 1 });
    } finally {
      await client.endAsync();
    }
  };

  describe(`${label}: a shared-subscription member that disappears`, () => {
    it('kept session: its unacknowledged messages wait for it, new ones queue for it, and both come back to it', async () => {
      const topic = 'plant/share-kept/x';
      const lost = await member('member-lost', topic, { ack: false, expiry: 300 });
      const other = await member('member-other', topic, { ack: true, expiry: 300 });
      try {
        await publish(topic, 0, 40);
        await waitFor(() => lost.got.length + other.got.length >= 40, 5000, 'round 1 delivered');
        const unacked = lost.got.map((m) => m.payload);
        assert.ok(unacked.length > 0 && other.got.length > 0, 'round robin over both members');
        // Killed: the socket goes, no DISCONNECT.
        lost.client.stream.destroy();
        await target().waitForLog(/Client member-lost .*(closed its connection|disconnected)/);
        await publish(topic, 40, 80);
        await sleep(300);
        const otherRound2 = other.got.filter((m) => Number(m.payload) >= 40).length;
        // Not handed over: the other member gets only its turns; the rest queues for the lost one.
        assert.ok(otherRound2 < 40, `the other member got ${otherRound2} of 40 while one was away`);
        assert.ok(
          !other.got.some((m) => unacked.includes(m.payload)),
          'unacknowledged messages are not redelivered to another member',
        );
        const back = await member('member-lost', topic, { ack: true, expiry: 300 });
        try {
          await waitFor(() => back.got.length >= unacked.length + (40 - otherRound2), 5000, 'resumed');
          const again = back.got.filter((m) => unacked.includes(m.payload));
          assert.equal(again.length, unacked.length, 'every unacknowledged message comes back to its member');
          assert.ok(
            again.every((m) => m.dup),
            'redelivered with DUP',
          );
          const total = new Set([...other.got, ...back.got].map((m) => m.payload));
          assert.equal(total.size, 80, 'nothing lost across the group once the member is back');
        } finally {
          await back.client.endAsync(true);
        }
      } finally {
        lost.client.end(true);
        await other.client.endAsync(true);
      }
    });

    it('session expiry 0: its unacknowledged messages are gone, not given to the other member', async () => {
      const topic = 'plant/share-gone/x';
      const lost = await member('gone-lost', topic, { ack: false, expiry: 0 });
      const other = await member('gone-other', topic, { ack: true, expiry: 0 });
      try {
        await publish(topic, 0, 20);
        await waitFor(() => lost.got.length + other.got.length >= 20, 5000, 'delivered');
        const unacked = lost.got.map((m) => m.payload);
        lost.client.stream.destroy();
        await target().waitForLog(/Client gone-lost .*(closed its connection|disconnected)/);
        await publish(topic, 20, 30);
        await waitFor(() => other.got.filter((m) => Number(m.payload) >= 20).length >= 10, 5000, 'round 2');
        await sleep(200);
        assert.ok(!other.got.some((m) => unacked.includes(m.payload)), 'not redelivered to the other member');
        assert.equal(
          other.got.filter((m) => Number(m.payload) >= 20).length,
          10,
          'without the session every new message goes to the member still there',
        );
      } finally {
        lost.client.end(true);
        await other.client.endAsync(true);
      }
    });
  });
}
