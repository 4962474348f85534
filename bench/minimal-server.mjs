// The "cost of MCP itself" baseline: the smallest real SDK server, spawned over stdio exactly
// like the bridge. One tool publishes with mqtt.js directly (publishAsync), one does nothing.
// It connects to the broker in the background with the same mutual TLS and socket tuning
// (TCP_NODELAY) as the bridge, and subscribes to MIN_SUBSCRIBE like the bridge reads what it
// writes. Plain JavaScript, so it starts without a TypeScript loader, like dist/index.js.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import mqtt from 'mqtt';
import { z } from 'zod';

const env = process.env;
let client;
if (env.MQTT_URL) {
  const url = new URL(env.MQTT_URL);
  client = mqtt.connect({
    protocol: url.protocol.replace(':', ''),
    host: url.hostname,
    port: Number(url.port),
    protocolVersion: 5,
    ca: readFileSync(env.MQTT_CA_FILE),
    cert: readFileSync(env.MQTT_CERT_FILE),
    key: readFileSync(env.MQTT_KEY_FILE),
    reconnectPeriod: 1000,
  });
  if (env.MIN_NODELAY !== '0') client.stream?.setNoDelay?.(true);
  if (env.MIN_SUBSCRIBE)
    client.on('connect', () => void client.subscribeAsync(env.MIN_SUBSCRIBE, { qos: 1 }));
}
const connected = () =>
  client.connected ? Promise.resolve() : new Promise((resolve) => client.once('connect', () => resolve()));

const server = new McpServer({ name: 'minimal', version: '1.0.0' }, { capabilities: { tools: {} } });
server.registerTool(
  'publish',
  {
    description: 'Publish one message with mqtt.js publishAsync.',
    inputSchema: { topic: z.string(), payload: z.string(), qos: z.number().int().min(0).max(2).default(1) },
  },
  async ({ topic, payload, qos }) => {
    await connected();
    await client.publishAsync(topic, payload, { qos });
    return { content: [{ type: 'text', text: 'ok' }] };
  },
);
server.registerTool(
  'noop',
  {
    description: 'Does nothing; takes the arguments of a read tool.',
    inputSchema: { filter: z.string().optional(), limit: z.number().int().optional() },
  },
  async () => ({ content: [{ type: 'text', text: 'ok' }] }),
);
await server.connect(new StdioServerTransport());
process.stdin.once('end', () => {
  void server.close();
  if (client) client.end(true, () => process.exit(0));
  else process.exit(0);
});
