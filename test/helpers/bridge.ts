/**
 * An in-process bridge against a real broker: the same createApp() and createServer() the
 * binary uses, with a real MCP Client over the SDK's in-memory linked transport pair, and the
 * log lines captured for assertions.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createApp, type App } from '../../src/app.js';
import { openHistories } from '../../src/broker-history.js';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createAuditLog } from '../../src/logging/audit.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { createServer } from '../../src/server.js';
import { waitFor, type Broker } from './broker.js';
import type { Pki } from './pki.js';

export interface LogSink {
  readonly lines: string[];
  text(): string;
}

export function logSink(): { sink: LogSink; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(line);
      done();
    },
  });
  return { sink: { lines, text: () => lines.join('\n') }, stream };
}

/** Environment for the bridge identity against a test broker. */
export function bridgeEnv(
  broker: Broker,
  pki: Pki,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    MQTT_URL: broker.url,
    MQTT_CA_FILE: pki.ca,
    MQTT_CERT_FILE: pki.clientCert,
    MQTT_KEY_FILE: pki.clientKey,
    MCP_READ_TOPICS: 'plant/#',
    MCP_WRITE_TOPICS: 'plant/#',
    MQTT_RECONNECT_MIN_MS: '200',
    MQTT_RECONNECT_MAX_MS: '1000',
    MQTT_PUBLISH_TIMEOUT_MS: '3000',
    MQTT_CONNECT_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'debug',
    // Rate limits are tested on their own; elsewhere they would only get in the way.
    MCP_PUBLISH_RATE_PER_MINUTE: '1000000',
    MCP_TOOL_RATE_PER_MINUTE: '1000000',
    ...extra,
  };
}

/**
 * Connected, with nothing in mqtt.js' outgoing map: the collection subscriptions made on connect
 * have their SUBACK. (A SUBSCRIBE awaiting its SUBACK sits in the same map as a publish awaiting
 * its acknowledgement, so a test that stops the broker and then counts what is in flight must
 * start from here.)
 */
export async function settled(bridge: TestBridge, timeoutMs = 5000): Promise<void> {
  await waitFor(
    () => {
      const q = bridge.app.link.queueDepth();
      return bridge.app.link.connected && q.queued + q.outgoing + q.pending === 0;
    },
    timeoutMs,
    'connected with the subscriptions acknowledged',
  );
}

export interface TestBridge {
  readonly app: App;
  readonly config: Config;
  readonly client: Client;
  readonly logs: LogSink;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** structuredContent of a successful call (throws with the text when it is an error). */
  ok<T = Record<string, any>>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** The text of an isError result (throws when the call succeeded). */
  fails(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startBridge(
  env: Record<string, string>,
  options: { start?: boolean; inContainer?: boolean } = {},
): Promise<TestBridge> {
  const config = loadConfig(env, (path) => readFileSync(path));
  const scrubber = new Scrubber(config.secrets);
  const { sink, stream } = logSink();
  const logger = createLogger({ level: config.logLevel, scrubber, destination: stream });
  // Audit lines go to the same captured sink (they carry "log":"audit").
  const audit = createAuditLog({ scrubber, destination: stream });
  // With HISTORY_PATH in env, history is opened as main.ts opens it (a real SQLite file per broker).
  const app = createApp(config, logger, scrubber, '0.0.0-test', audit, {
    inContainer: options.inContainer === true,
    brokerHistory: await openHistories(config),
  });
  const server = createServer(app.deps);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await server.connect(serverTransport);
  await client.connect(clientTransport);
  if (options.start !== false) await app.start();
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    app,
    config,
    client,
    logs: sink,
    call,
    ok: async (name, args) => {
      const result = await call(name, args);
      if (result.isError === true) throw new Error(`${name} failed: ${textOf(result)}`);
      return result.structuredContent as never;
    },
    fails: async (name, args) => {
      const result = await call(name, args);
      if (result.isError !== true) throw new Error(`${name} unexpectedly succeeded: ${textOf(result)}`);
      return textOf(result);
    },
    close: async () => {
      await client.close();
      await app.stop(1000);
    },
  };
}

export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}
