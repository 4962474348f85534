/**
 * Prints what each broker does on the wire (the probes of support/wire.ts), with timings, as
 * JSON lines: the raw material of support/facts.ts when a broker version changes.
 *
 *   npx tsx test/interop/support/observe.ts [mosquitto-5 mosquitto-3.1.1 rabbitmq nats aedes]
 */
import { createPki } from '../../helpers/pki.js';
import { startInteropBroker } from './brokers.js';
import { BROKER_KEYS, clientOptions, type BrokerKey } from './kit.js';
import { probeConnect, probeQos2, probeRefusedPublish, probeRetain, probeSys } from './wire.js';

const keys = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : BROKER_KEYS) as BrokerKey[];
const pki = createPki();
for (const key of keys) {
  const broker = await startInteropBroker(key, pki);
  try {
    const out: Record<string, unknown> = { broker: broker.product, key, startMs: broker.startedInMs };
    out.mqtt5Connect = await probeConnect(clientOptions(broker, { identity: 'bridge', protocolVersion: 5 }));
    out.mqtt311Connect = await probeConnect(
      clientOptions(broker, { identity: 'bridge', protocolVersion: 4 }),
    );
    out.noClientCert = await probeConnect(clientOptions(broker, { identity: 'none' }));
    out.unknownCa = await probeConnect(clientOptions(broker, { identity: 'foreign' }));
    out.refusedPublish = await probeRefusedPublish(broker);
    out.retain = await probeRetain(broker);
    out.qos2 = await probeQos2(broker);
    out.sys = await probeSys(broker);
    const restarted = performance.now();
    await broker.restart();
    out.restartMs = Math.round(performance.now() - restarted);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await broker.close();
  }
}
