/** The interoperability cases (support/suite.ts) against Mosquitto (Debian), spoken to over MQTT 3.1.1. */
import { interopSuite } from './support/suite.js';

interopSuite('mosquitto-3.1.1');
