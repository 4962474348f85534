/** The interoperability cases (support/suite.ts) against NATS 2.9 (Debian) with its MQTT listener and JetStream. */
import { interopSuite } from './support/suite.js';

interopSuite('nats');
