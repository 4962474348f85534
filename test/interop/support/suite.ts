/**
 * The interoperability cases, the same for every broker: first what the broker does on the wire
 * (plain mqtt.js, checked against support/facts.ts), then the bridge against it (in-process with
 * a real MCP Client, and the built server for the clean exit). A case that needs bridge
 * behaviour not built yet is a node:test `todo`: it runs and reports, and does not fail the run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPki } from '../../helpers/pki.js';
import { bridgeCases } from './bridge-cases.js';
import { createInteropBroker, missing } from './brokers.js';
import { FACTS } from './facts.js';
import { clientOptions, type BrokerKey, type InteropBroker } from './kit.js';
import { probeConnect, probeQos2, probeRefusedPublish, probeRetain, probeSys } from './wire.js';

/** Everything one broker's test file runs. */
export function interopSuite(key: BrokerKey): void {
  const facts = FACTS[key];
  const why =
    missing(key) ?? (process.env.INTEROP_SKIP?.split(',').includes(key) ? 'INTEROP_SKIP' : undefined);
  // CI installs every broker first: a missing one there is a failure, not a skip.
  const skip = why !== undefined && process.env.CI === undefined ? why : false;

  describe(`${facts.product}`, { skip }, () => {
    let broker: InteropBroker;
    before(async () => {
      if (why !== undefined) throw new Error(why);
      broker = await createInteropBroker(key, createPki());
      await broker.start();
      process.stderr.write(`# interop ${broker.product}: started in ${broker.startedInMs} ms\n`);
    });
    after(async () => {
      await broker?.close();
    });

    describe('on the wire', () => {
      it('the product and version are the expected ones', () => {
        assert.equal(facts.product.startsWith(broker.product), true, `${broker.product} vs ${facts.product}`);
      });
      it(`MQTT 5 CONNECT: ${facts.mqtt5Connect}`, async () => {
        const seen = await probeConnect(clientOptions(broker, { identity: 'bridge', protocolVersion: 5 }));
        process.stderr.write(
          `# interop ${key}: MQTT 5 CONNECT -> ${seen.outcome} after ${seen.ms} ms (${seen.afterHandshakeMs ?? '-'} ms after the TLS handshake)\n`,
        );
        assert.equal(seen.outcome, facts.mqtt5Connect);
      });
      it(`MQTT 3.1.1 CONNECT: ${facts.mqtt311Connect}`, async () => {
        const seen = await probeConnect(clientOptions(broker, { identity: 'bridge', protocolVersion: 4 }));
        assert.equal(seen.outcome, facts.mqtt311Connect);
      });
      it(`no client certificate: ${facts.noClientCert}`, async () => {
        const seen = await probeConnect(clientOptions(broker, { identity: 'none' }));
        assert.equal(seen.outcome, facts.noClientCert);
      });
      it(`client certificate from an unknown CA: ${facts.unknownCa}`, async () => {
        const seen = await probeConnect(clientOptions(broker, { identity: 'foreign' }));
        assert.equal(seen.outcome, facts.unknownCa);
      });
      it(`a publish its ACL forbids: ${facts.refusedPublish}`, async () => {
        const seen = await probeRefusedPublish(broker);
        process.stderr.write(`# interop ${key}: forbidden publish -> ${seen.outcome} after ${seen.ms} ms\n`);
        assert.equal(seen.outcome, facts.refusedPublish);
      });
      it(`retained: ${facts.retained}; on an overlapping subscription: ${facts.overlapping}`, async () => {
        const seen = await probeRetain(broker);
        assert.deepEqual(seen, { retained: facts.retained, overlapping: facts.overlapping });
      });
      it(`QoS 2: subscription ${facts.qos2Subscribe}, publish ${facts.qos2Publish}`, async () => {
        const seen = await probeQos2(broker);
        assert.deepEqual(seen, { subscribe: facts.qos2Subscribe, publish: facts.qos2Publish });
      });
      it(
        'MQTT over WebSockets with TLS (wss://) and a client certificate: CONNACK',
        { skip: !key.startsWith('mosquitto') && 'no WebSocket listener set up' },
        async () => {
          const url = new URL(broker.wssUrl ?? '');
          const seen = await probeConnect({
            ...clientOptions(broker, { identity: 'bridge' }),
            protocol: 'wss',
            port: Number(url.port),
            path: url.pathname,
          });
          assert.equal(seen.outcome, 'CONNACK, accepted');
          const refused = await probeConnect({
            ...clientOptions(broker, { identity: 'foreign' }),
            protocol: 'wss',
            port: Number(url.port),
            path: url.pathname,
          });
          assert.notEqual(refused.outcome, 'CONNACK, accepted');
        },
      );
      it(`$SYS: ${facts.sys}`, async () => {
        assert.equal(await probeSys(broker), facts.sys);
      });
    });

    bridgeCases(key, () => broker);
  });
}
