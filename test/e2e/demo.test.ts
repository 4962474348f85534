/**
 * End to end: `npm run demo` without the build step (demo/run.ts through tsx), on a free HTTP
 * port, a random broker port and its own PKI folder. An SDK client over Streamable HTTP with
 * the demo's bearer token checks what a first-time user would try: the tools, last values with
 * a retained one, the binary meter as base64, the sensor that goes quiet, and a pump command
 * that changes the pump's state, history recorded into the run's own folder. Then SIGINT: exit 0,
 * no bridge process left behind, and the temporary files (token, history) removed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { PLANT_TOPICS } from '../../demo/plant.js';
import { freePort, sleep, waitFor } from '../helpers/broker.js';
import { textOf } from '../helpers/bridge.js';

const ROOT = resolve(import.meta.dirname, '../..');
// E2E_NODE lets CI run the demo (and so the bridge it starts) under another Node (Node 26) as well.
const NODE = process.env.E2E_NODE ?? process.execPath;

interface Message {
  topic: string;
  payload: any;
  encoding: 'json' | 'utf8' | 'base64';
  retain: boolean;
  ageSeconds: number;
}

let demo: ChildProcess;
let stdout = '';
let pkiDir: string;
let port: number;

/** Processes (other than us) whose environment mentions `marker`: Linux only, else []. */
function processesMentioning(marker: string): number[] {
  if (!existsSync('/proc/self/environ')) return [];
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker)) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

before(async () => {
  pkiDir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-demo-pki-'));
  port = await freePort();
  demo = spawn(
    NODE,
    [
      '--import',
      'tsx',
      'demo/run.ts',
      '--port',
      String(port),
      '--mqtt-port',
      '0',
      '--silent-after',
      '3',
      '--interval-ms',
      '300',
      '--pki-dir',
      pkiDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  demo.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  demo.stderr?.on('data', (d: Buffer) => (stdout += d.toString()));
  await waitFor(
    () => stdout.includes('demo    ready') || (demo.exitCode !== null ? 'exited' : false),
    25_000,
    'the demo to be ready',
  );
  assert.equal(demo.exitCode, null, `the demo exited early:\n${stdout}`);
});

after(() => {
  // Safety net only: the test itself stops everything and asserts it.
  if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  for (const pid of processesMentioning(pkiDir)) process.kill(pid, 'SIGKILL');
  rmSync(pkiDir, { recursive: true, force: true });
});

describe('npm run demo', () => {
  it('serves the simulated plant through the bridge over HTTP, then stops cleanly on SIGINT', async () => {
    const bridgePid = Number(/bridge ready \(pid (\d+)\)/.exec(stdout)?.[1]);
    // The token is printed in the form a client sends it, on a line of its own.
    const token = /^ {6}Authorization: Bearer ([0-9a-f]{64})$/m.exec(stdout)?.[1];
    const tokenFile = /\((\S+) holds the line demo=<token>/.exec(stdout)?.[1];
    const historyPath = /bridge recording history to (\S+) \(removed/.exec(stdout)?.[1];
    assert.ok(bridgePid > 0 && token !== undefined && tokenFile !== undefined, stdout);
    assert.ok(existsSync(tokenFile));
    assert.equal(readFileSync(tokenFile, 'utf8'), `demo=${token}\n`);
    assert.match(stdout, /"MQTT_PROTOCOL_VERSION": "4"/, 'the Claude Desktop block');
    assert.match(stdout, /mcp-inspector --cli http:\/\/127\.0\.0\.1:\d+\/mcp --transport http --header/);

    const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'demo-e2e', version: '1.0.0' });
    await client.connect(transport);
    const ok = async <T = Record<string, any>>(name: string, args: Record<string, unknown> = {}) => {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      if (result.isError === true) throw new Error(`${name} failed: ${textOf(result)}`);
      return result.structuredContent as T;
    };
    const latest = async (filter: string) =>
      (await ok<{ messages: Message[] }>('mqtt_get_latest', { filter, limit: 100 })).messages;
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [
        'mqtt_chart',
        'mqtt_export',
        'mqtt_find_silent',
        'mqtt_get_latest',
        'mqtt_list_topics',
        'mqtt_publish',
        'mqtt_read_messages',
        'mqtt_sparkplug_nodes',
        'mqtt_sparkplug_rebirth',
        'mqtt_status',
        'mqtt_subscribe',
        'mqtt_summarize',
        'mqtt_unsubscribe',
        'mqtt_wait_for_messages',
      ]);

      // The demo's bridge records history into the run's own temporary folder.
      assert.ok(historyPath !== undefined && historyPath.startsWith(tmpdir()), stdout);
      let history: Record<string, any> = {};
      for (const until = Date.now() + 8000; Date.now() < until; await sleep(100)) {
        history = (await ok('mqtt_status')).history;
        if (history.written > 0) break;
      }
      assert.equal(history.state, 'recording', JSON.stringify(history));
      assert.equal(history.path, historyPath);
      assert.ok(history.written > 0, JSON.stringify(history));
      assert.ok(existsSync(historyPath));

      // Last values: plain-number and JSON telemetry, retained device state, the binary meter.
      const byTopic = (messages: Message[]) => new Map(messages.map((m) => [m.topic, m]));
      let seen = new Map<string, Message>();
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        seen = byTopic(await latest('plant/#'));
        if (
          ['plant/line1/temperature', 'plant/line1/energy/raw', 'plant/line2/vibration'].every((t) =>
            seen.has(t),
          )
        )
          break;
        await sleep(100);
      }
      // The plant's topic list (where tool descriptions take their examples) is what it publishes.
      for (const topic of seen.keys())
        assert.ok(PLANT_TOPICS.includes(topic), `${topic} is not in PLANT_TOPICS`);
      const temperature = seen.get('plant/line1/temperature');
      assert.ok(temperature !== undefined, [...seen.keys()].join(', '));
      // Plain numbers and JSON readings come as JSON values.
      assert.equal(temperature.encoding, 'json');
      assert.equal(typeof temperature.payload, 'number');
      const pressure = seen.get('plant/line1/pressure');
      assert.equal(pressure?.encoding, 'json');
      assert.equal((pressure?.payload as { unit?: string }).unit, 'bar');
      const config = seen.get('plant/line1/config');
      assert.equal(config?.retain, true, 'device config is a retained value');
      assert.equal(seen.get('plant/line1/pump/state')?.retain, true);
      const meter = seen.get('plant/line1/energy/raw');
      assert.equal(meter?.encoding, 'base64');
      assert.deepEqual([...Buffer.from(meter.payload, 'base64').subarray(0, 2)], [0xaa, 0x55]);

      // The vibration sensor goes quiet: its age grows while the others stay fresh.
      await waitFor(() => stdout.includes('vibration sensor went silent'), 10_000, 'the sensor to go quiet');
      const first = (await latest('plant/line2/vibration'))[0];
      await sleep(1200);
      const second = (await latest('plant/line2/vibration'))[0];
      assert.ok(first !== undefined && second !== undefined);
      assert.ok(second.ageSeconds >= first.ageSeconds + 1, `${first.ageSeconds} -> ${second.ageSeconds}`);
      const fresh = (await latest('plant/line2/temperature'))[0];
      assert.ok(fresh !== undefined && fresh.ageSeconds < 1.5, `line2 temperature age ${fresh?.ageSeconds}`);

      // The Sparkplug B edge node: metrics by name from its BIRTH, the catalog's unit on readings.
      const nodes = await ok('mqtt_sparkplug_nodes', { edge: 'E7' });
      const press = nodes.nodes[0]?.devices?.[0];
      assert.equal(nodes.nodes[0]?.online, true);
      assert.equal(press?.device, 'press1');
      assert.ok(
        press.metrics.some(
          (m: { name: string; datatype: string }) =>
            m.name === 'Hydraulics/Pressure' && m.datatype === 'Float',
        ),
        JSON.stringify(press),
      );
      const ddata = (await latest('spBv1.0/plant/DDATA/E7/press1'))[0];
      assert.equal(ddata?.encoding, 'sparkplug');
      assert.equal(ddata?.payload.metrics[0].name, 'Hydraulics/Pressure');
      const withUnit = await ok('mqtt_get_latest', { filter: 'plant/line1/temperature' });
      assert.deepEqual(withUnit.catalog['plant/line1/temperature'].unit, '°C');

      // A command through the bridge changes the pump's state topic.
      const published = await ok('mqtt_publish', { topic: 'plant/line1/pump/cmd', payload: 'off' });
      assert.equal(published.delivery, 'acknowledged');
      let state = '';
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const pump = (await latest('plant/line1/pump/state'))[0];
        state = (pump?.payload as { state?: string } | undefined)?.state ?? '';
        if (state === 'stopped') break;
        await sleep(100);
      }
      assert.equal(state, 'stopped');
      assert.match(stdout, /line1 pump is now stopped \(command "off"\)/);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }

    // SIGINT: exit 0 within a few seconds, the bridge child gone, temporary files removed.
    const started = performance.now();
    const exited = new Promise<number | null>((res) => demo.once('exit', (code) => res(code)));
    demo.kill('SIGINT');
    const code = await exited;
    const ms = performance.now() - started;
    assert.equal(code, 0, stdout.slice(-2000));
    assert.ok(ms < 8000, `took ${Math.round(ms)} ms`);
    assert.match(stdout, /bridge \(pid \d+\) exited with 0/);
    assert.equal(alive(bridgePid), false, `bridge pid ${bridgePid} still alive`);
    assert.deepEqual(processesMentioning(pkiDir), [], 'no process started by the demo is left');
    assert.equal(existsSync(tokenFile), false, 'the token file is removed');
    assert.equal(existsSync(historyPath), false, 'the history file is removed');
  });
});
