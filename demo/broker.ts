/**
 * The embedded broker: aedes (MQTT 3.1 / 3.1.1 only) behind a Node TLS listener on 127.0.0.1
 * that requires a client certificate signed by the demo CA, so the bridge connects exactly as
 * it would to a production broker with mutual TLS. In-process code (the simulated plant) uses
 * the broker directly through the Bus interface.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { DemoPki } from './pki.js';

/** What the plant needs from a broker: publish and subscribe, in-process. */
export interface Bus {
  publish(topic: string, payload: string | Buffer, options?: { retain?: boolean }): Promise<void>;
  subscribe(filter: string, onMessage: (topic: string, payload: Buffer) => void): Promise<void>;
}

export interface DemoBroker extends Bus {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export class BrokerError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

type Say = (line: string) => void;

export async function startBroker(pki: DemoPki, port: number, say: Say): Promise<DemoBroker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer(
    {
      ca: readFileSync(pki.ca),
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => aedes.handle(socket),
  );
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (error) => {
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1] ?? error.message;
    say(`broker  refused a TLS client: ${reason}`);
  });

  const identity = (client: Client): string => {
    const cn = (client.conn as TLSSocket).getPeerCertificate?.().subject?.CN;
    return `${client.id}${cn === undefined ? '' : ` (certificate CN ${String(cn)})`}`;
  };
  aedes.on('client', (client) => say(`broker  client connected: ${identity(client)}`));
  aedes.on('clientDisconnect', (client) => say(`broker  client disconnected: ${client.id}`));
  aedes.on('connectionError', (client, error) =>
    say(`broker  connection error${client.id ? ` (${client.id})` : ''}: ${error.message}`),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      aedes.close();
      reject(
        new BrokerError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on 127.0.0.1 is in use; pick another with --mqtt-port N (or DEMO_MQTT_PORT)`
            : `the broker could not listen on 127.0.0.1:${port}: ${error.message}`,
          error.code,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;

  return {
    port: actualPort,
    url: `mqtts://127.0.0.1:${actualPort}`,
    publish: (topic, payload, options = {}) =>
      new Promise((resolve, reject) =>
        aedes.publish(
          {
            cmd: 'publish',
            topic,
            payload: typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload,
            qos: 0,
            retain: options.retain ?? false,
            dup: false,
          },
          (error) => (error ? reject(error) : resolve()),
        ),
      ),
    subscribe: (filter, onMessage) =>
      new Promise((resolve) =>
        aedes.subscribe(
          filter,
          (packet: AedesPublishPacket, done: () => void) => {
            const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
            onMessage(packet.topic, payload);
            done();
          },
          () => resolve(),
        ),
      ),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
