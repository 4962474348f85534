/** The interoperability cases (support/suite.ts) against RabbitMQ 3.10 (Debian) with its MQTT plugin, as a private Erlang node. */
import { interopSuite } from './support/suite.js';

interopSuite('rabbitmq');
