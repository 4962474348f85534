/**
 * Output economy: how many bytes of tool text a model reads per message beyond the payload
 * itself, for the typical 60-byte JSON payload on a typical topic (plant/line1/pump7/temp).
 * Measured in-process (createApp, the store filled through store.append, the real tool
 * boundary: runTool -> JSON text framed as untrusted data) with limit 1, 20 and 200: the
 * marginal bytes per message are (text(200) - text(20)) / 180, the fixed part is what remains.
 * The same reads over stdio give the JSON-RPC bytes on the wire (the text plus
 * structuredContent). A breakdown of one message's JSON shows where the bytes go.
 */
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createAuditLog } from '../../src/logging/audit.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { runTool } from '../../src/tools/define.js';
import { ALL_TOOLS } from '../../src/tools/index.js';
import type { BenchContext } from '../lib/context.js';
import { bridgeEnv, connectMqtt } from '../lib/context.js';
import { TYPICAL_PAYLOAD } from '../lib/payload.js';
import { startBridge, waitForStore } from '../lib/servers.js';

export interface EconomyResult {
  readonly topic: string;
  readonly payloadBytes: number;
  readonly textBytes: Record<string, number>;
  /** Tool text bytes per additional message, minus the payload bytes. */
  readonly overheadPerMessage: number;
  readonly textPerMessage: number;
  /** Tool text bytes / payload bytes per message. */
  readonly ratioToPayload: number;
  readonly fixedBytes: number;
  readonly wireBytes: Record<string, number>;
  readonly wirePerMessage: number;
  readonly breakdown: Array<{ field: string; bytes: number }>;
  readonly message: Record<string, unknown>;
  readonly getLatestOverheadPerMessage: number;
  /** Computed from the measured message: bytes beyond the payload if some fields went. */
  readonly whatIf: Array<{ change: string; overheadPerMessage: number }>;
  /** tools/list as the client receives it over stdio (the JSON-RPC result), for the read-write tool set. */
  readonly toolsList?: {
    readonly bytes: number;
    readonly outputSchemaBytes: number;
    readonly perTool: Array<{ name: string; bytes: number; outputSchemaBytes: number }>;
  };
}

const TOPIC = 'plant/line1/pump7/temp';

export async function runEconomy(ctx: BenchContext): Promise<EconomyResult> {
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const config = loadConfig(
    { MQTT_URL: 'mqtts://127.0.0.1:1', LOG_LEVEL: 'warn', MCP_TOOL_RATE_PER_MINUTE: '1000000' },
    () => Buffer.alloc(0),
  );
  const scrubber = new Scrubber(config.secrets);
  const app = createApp(
    config,
    createLogger({ level: 'warn', scrubber, destination: sink }),
    scrubber,
    'bench',
    createAuditLog({ scrubber, destination: sink }),
  );
  const payload = Buffer.from(TYPICAL_PAYLOAD);
  const now = Date.now();
  for (let i = 0; i < 100; i++)
    app.deps.store.append(TOPIC, payload, 1, false, undefined, now - (100 - i) * 1000);
  for (let i = 0; i < 200; i++)
    app.deps.store.append(`plant/line1/pump${i}/temp`, payload, 1, false, undefined, now - 500 + i);
  const extra = {
    signal: new AbortController().signal,
    requestId: 1,
    sendNotification: async () => undefined,
    sendRequest: async () => ({}),
  } as unknown as Parameters<typeof runTool>[3];
  const call = async (tool: string, args: Record<string, unknown>) => {
    const spec = ALL_TOOLS.find((t) => t.name === tool)!;
    const result = await runTool(spec, app.deps, spec.input.parse(args), extra);
    const first = result.content[0];
    return {
      text: first?.type === 'text' ? first.text : '',
      structured: result.structuredContent as Record<string, any>,
    };
  };
  const textBytes: Record<string, number> = {};
  for (const limit of [1, 20, 200])
    textBytes[`read ${limit}`] = Buffer.byteLength(
      (await call('mqtt_read_messages', { filter: 'plant/#', limit })).text,
    );
  for (const limit of [1, 50, 200])
    textBytes[`latest ${limit}`] = Buffer.byteLength(
      (await call('mqtt_get_latest', { filter: 'plant/#', limit })).text,
    );
  const perMessage = (textBytes['read 200']! - textBytes['read 20']!) / 180;
  const latestPerMessage = (textBytes['latest 200']! - textBytes['latest 50']!) / 150;
  const one = (await call('mqtt_read_messages', { filter: TOPIC, limit: 1 })).structured
    .messages[0] as Record<string, unknown>;
  const breakdown = Object.entries(one).map(([field, value]) => ({
    field,
    bytes: Buffer.byteLength(`${JSON.stringify(field)}:${JSON.stringify(value)},`),
  }));
  breakdown.push({ field: '{} of the message object', bytes: 2 - 1 });
  const bytesOf = (field: string) => breakdown.find((b) => b.field === field)?.bytes ?? 0;
  const defaults = bytesOf('encoding') + bytesOf('truncated') + bytesOf('retain') + bytesOf('sizeBytes');
  await app.stop(100);

  // Over stdio: the JSON-RPC response line (text + structuredContent).
  const bridge = await startBridge(bridgeEnv(ctx, { MCP_READ_TOPICS: 'plant/#', MQTT_SUBSCRIBE: 'plant/#' }));
  const spy = await connectMqtt(ctx, { identity: 'spy' });
  for (let i = 0; i < 200; i++) await spy.publishAsync(TOPIC, TYPICAL_PAYLOAD, { qos: 1 });
  await spy.endAsync();
  await waitForStore(bridge, { messages: 100 });
  const listed = JSON.parse((await bridge.request('tools/list')).line) as {
    result: { tools: Array<Record<string, unknown> & { name: string; outputSchema?: unknown }> };
  };
  const perTool = listed.result.tools.map((t) => ({
    name: t.name,
    bytes: Buffer.byteLength(JSON.stringify(t)),
    outputSchemaBytes: Buffer.byteLength(JSON.stringify(t.outputSchema ?? {})),
  }));
  const toolsList = {
    bytes: Buffer.byteLength(JSON.stringify(listed.result)),
    outputSchemaBytes: perTool.reduce((n, t) => n + t.outputSchemaBytes, 0),
    perTool,
  };
  const wireBytes: Record<string, number> = {};
  for (const limit of [1, 20, 100])
    wireBytes[`read ${limit}`] = (
      await bridge.callTool('mqtt_read_messages', { filter: TOPIC, limit })
    ).bytes;
  await bridge.close();
  const wirePerMessage = (wireBytes['read 100']! - wireBytes['read 20']!) / 80;
  const result: EconomyResult = {
    topic: TOPIC,
    payloadBytes: payload.length,
    textBytes,
    overheadPerMessage: perMessage - payload.length,
    textPerMessage: perMessage,
    ratioToPayload: perMessage / payload.length,
    fixedBytes: textBytes['read 20']! - 20 * perMessage,
    wireBytes,
    wirePerMessage,
    breakdown,
    message: one,
    getLatestOverheadPerMessage: latestPerMessage - payload.length,
    toolsList,
    whatIf: [
      {
        change:
          'omit fields at their usual value (encoding "utf8", truncated false, retain false, sizeBytes equal to the payload)',
        overheadPerMessage: perMessage - payload.length - defaults,
      },
      {
        change: 'the above, and receivedAt left out (ageSeconds kept)',
        overheadPerMessage: perMessage - payload.length - defaults - bytesOf('receivedAt'),
      },
      {
        change: 'the above, and ageSeconds left out instead (receivedAt kept)',
        overheadPerMessage: perMessage - payload.length - defaults - bytesOf('ageSeconds'),
      },
      {
        change:
          'usual values omitted, and the topic given once per result when it is the same for every message',
        overheadPerMessage: perMessage - payload.length - defaults - bytesOf('topic'),
      },
    ],
  };
  ctx.log(
    `economy: ${perMessage.toFixed(1)} text bytes per message (${result.overheadPerMessage.toFixed(1)} beyond the ${payload.length}-byte payload), ` +
      `fixed ${result.fixedBytes.toFixed(0)} bytes per result, ${wirePerMessage.toFixed(1)} bytes per message on the wire; ` +
      `tools/list ${toolsList.bytes} bytes (${toolsList.outputSchemaBytes} of output schemas)`,
  );
  return result;
}
