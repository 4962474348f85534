/** The interoperability cases (support/suite.ts) against aedes (npm) behind a Node TLS listener, in a process of its own. */
import { interopSuite } from './support/suite.js';

interopSuite('aedes');
