/** The interoperability cases (support/suite.ts) against Mosquitto (Debian), spoken to over MQTT 5. */
import { interopSuite } from './support/suite.js';

interopSuite('mosquitto-5');
