/**
 * aedes (npm) behind a Node TLS listener that requires a client certificate from the test CA,
 * as a process of its own so that the tests can stop, kill and restart it like any other
 * broker. The client certificate CN is the identity; "mcp-bridge" may not publish to secret/#.
 * Configuration in AEDES_CONFIG (JSON: port, ca, cert, key); one log line per event on stdout.
 *
 *   node --import tsx test/interop/support/aedes-server.ts
 */
import { readFileSync } from 'node:fs';
import { createServer, type TLSSocket } from 'node:tls';
import { Aedes, type Client } from 'aedes';

interface AedesConfig {
  readonly port: number;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

const config = JSON.parse(process.env.AEDES_CONFIG ?? '{}') as AedesConfig;
const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const cn = (client: Client): string =>
  String((client.conn as TLSSocket).getPeerCertificate?.().subject?.CN ?? '');

const aedes = await Aedes.createBroker({
  authorizePublish: (client, packet, callback) => {
    if (client !== null && cn(client) === 'mcp-bridge' && packet.topic.startsWith('secret/')) {
      say(`denied publish from ${client.id} to ${packet.topic}`);
      callback(new Error('not authorized'));
      return;
    }
    callback(null);
  },
});
aedes.on('client', (client) => say(`client connected ${client.id} cn=${cn(client)}`));
aedes.on('clientDisconnect', (client) => {
  // aedes marks a client that sent DISCONNECT before it closes the socket.
  const clean = (client as unknown as { _disconnected?: boolean })._disconnected === true;
  say(`client disconnected ${client.id} clean=${clean}`);
});
aedes.on('clientError', (client, error) => say(`client error ${client.id}: ${error.message}`));
aedes.on('connectionError', (client, error) => say(`connection error ${client.id ?? ''}: ${error.message}`));

const server = createServer(
  {
    ca: readFileSync(config.ca),
    cert: readFileSync(config.cert),
    key: readFileSync(config.key),
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  },
  (socket) => aedes.handle(socket),
);
server.on('tlsClientError', (error) =>
  say(`TLS client refused: ${(error as NodeJS.ErrnoException).code ?? error.message}`),
);
server.listen(config.port, '127.0.0.1', () => say(`aedes listening on 127.0.0.1:${config.port}`));
process.on('SIGTERM', () => {
  aedes.close(() => server.close(() => process.exit(0)));
});
