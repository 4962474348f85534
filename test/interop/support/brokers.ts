/** Each interop broker by its key, and whether it is installed here. */
import { existsSync } from 'node:fs';
import { MOSQUITTO } from '../../helpers/broker.js';
import type { Pki } from '../../helpers/pki.js';
import { aedes } from './aedes.js';
import type { BrokerKey, InteropBroker } from './kit.js';
import { mosquitto } from './mosquitto.js';
import { nats, natsInstalled } from './nats.js';
import { rabbitmq, rabbitmqInstalled } from './rabbitmq.js';

export function createInteropBroker(key: BrokerKey, pki: Pki): Promise<InteropBroker> {
  switch (key) {
    case 'mosquitto-5':
      return mosquitto(pki, 5);
    case 'mosquitto-3.1.1':
      return mosquitto(pki, 4);
    case 'rabbitmq':
      return rabbitmq(pki);
    case 'nats':
      return nats(pki);
    case 'aedes':
      return aedes(pki);
  }
}

export async function startInteropBroker(key: BrokerKey, pki: Pki): Promise<InteropBroker> {
  const broker = await createInteropBroker(key, pki);
  await broker.start();
  return broker;
}

/** Why a broker cannot be tested here (not installed), or undefined. */
export function missing(key: BrokerKey): string | undefined {
  const hint = 'run scripts/install-interop-deps.sh';
  switch (key) {
    case 'mosquitto-5':
    case 'mosquitto-3.1.1':
      return existsSync(MOSQUITTO) || MOSQUITTO === 'mosquitto'
        ? undefined
        : `mosquitto is not installed; ${hint}`;
    case 'rabbitmq':
      return rabbitmqInstalled() ? undefined : `rabbitmq-server is not installed; ${hint}`;
    case 'nats':
      return natsInstalled() ? undefined : `nats-server is not installed; ${hint}`;
    case 'aedes':
      return undefined;
  }
}
