/**
 * npm run demo: a zero-setup demo on one machine, no broker and no Docker needed.
 *
 *   1. test certificates from certs/generate.sh (OpenSSL) in demo/.pki (git-ignored, reused)
 *   2. an embedded aedes broker on 127.0.0.1 behind a TLS listener that requires client certs
 *   3. a simulated plant publishing telemetry, retained state, alarms, a binary meter and a
 *      sensor that goes quiet; its pumps obey plant/<line>/pump/cmd; beside it a Sparkplug B
 *      edge node (spBv1.0/plant/#), and a topic catalog (demo/catalog.json)
 *   4. the built bridge (dist/index.js) in Streamable HTTP mode with a random bearer token,
 *      connected to the broker over mutual TLS, recording history (HISTORY_PATH) into the run's
 *      own temporary folder
 *
 * Then it prints how to attach Claude Desktop and the MCP Inspector, and what to ask. Ctrl-C
 * or SIGTERM stops the plant, the bridge (waiting for its exit), the broker, removes the
 * run's temporary files and exits 0.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BrokerError, startBroker, type DemoBroker } from './broker.js';
import { BridgeError, bridgeEnv, launchBridge, type BridgeProcess } from './bridge.js';
import { notes } from './notes.js';
import { OptionError, USAGE, parseOptions } from './options.js';
import { PkiError, ensurePki } from './pki.js';
import { portFree } from './ports.js';
import { DEVICE, EDGE, EdgeNode, GROUP } from './edge-node.js';
import { Plant } from './plant.js';

const ROOT = resolve(import.meta.dirname, '..');
const SERVER = join(ROOT, 'dist', 'index.js');

const say = (line: string): void => {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

/** What has been started so far; stop() takes it down in this order. */
const running: {
  plant?: Plant;
  edge?: { node: EdgeNode; timer: NodeJS.Timeout };
  bridge?: BridgeProcess;
  broker?: DemoBroker;
  runDir?: string;
} = {};
let stopping: Promise<void> | undefined;

const steps: ReadonlyArray<readonly [string, () => Promise<void>]> = [
  ['plant', async () => running.plant?.stop()],
  [
    'edge node',
    async () => {
      if (running.edge === undefined) return;
      clearInterval(running.edge.timer);
      await running.edge.node.stop();
    },
  ],
  [
    'bridge',
    async () => {
      const bridge = running.bridge;
      if (bridge === undefined) return;
      const code = await bridge.stop();
      say(`demo    bridge (pid ${bridge.pid}) exited with ${code}`);
      // SIGTERM: stopped before its own signal handlers were installed (Ctrl-C during start-up).
      if (code !== 0 && code !== 'SIGTERM') throw new Error(`the bridge exited with ${code}`);
    },
  ],
  ['broker', async () => running.broker?.close().then(() => say('demo    broker closed'))],
  [
    'temporary files',
    async () => {
      if (running.runDir !== undefined) rmSync(running.runDir, { recursive: true, force: true });
    },
  ],
];

function stop(reason: string, code: number): Promise<void> {
  if (stopping !== undefined) {
    say(`demo    ${reason}: already stopping`);
    return stopping;
  }
  say(`demo    stopping (${reason})`);
  stopping = (async () => {
    const deadline = setTimeout(() => {
      say('demo    cleanup took longer than 15 s; exiting anyway');
      process.exit(1);
    }, 15_000);
    deadline.unref();
    let exitCode = code;
    for (const [name, run] of steps) {
      try {
        await run();
      } catch (error) {
        say(`demo    stopping the ${name} failed: ${(error as Error).message}`);
        exitCode = 1;
      }
    }
    say(`demo    stopped; exit ${exitCode}`);
    process.exit(exitCode);
  })();
  return stopping;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env, join(ROOT, 'demo'));
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => void stop(signal, 0));

  if (options.bridge && !existsSync(SERVER))
    throw new OptionError(`${SERVER} is missing: run npm run build first (npm run demo does it for you)`);

  say(`demo    test certificates (certs/generate.sh) in ${options.pkiDir}`);
  const pki = ensurePki(ROOT, options.pkiDir);

  const broker = await startBroker(pki, options.mqttPort, say).catch((error: unknown) => {
    if (!(error instanceof BrokerError && error.code === 'EADDRINUSE' && options.mqttPortIsDefault))
      throw error;
    say(`demo    port ${options.mqttPort} is taken; the broker takes a free port instead`);
    return startBroker(pki, 0, say);
  });
  running.broker = broker;
  say(`demo    broker (aedes, MQTT 3.1.1) listening on ${broker.url}, client certificate required`);
  if (stopping !== undefined) return;

  const plant = new Plant(broker, {
    intervalMs: options.intervalMs,
    silentAfterSeconds: options.silentAfterSeconds,
    say,
  });
  running.plant = plant;
  await plant.start();
  say(
    `demo    plant publishing under plant/# every ${options.intervalMs} ms (retained status, config, pumps)`,
  );
  if (stopping !== undefined) return;

  const env = bridgeEnv(broker.url, pki, join(ROOT, 'demo', 'catalog.json'));
  let http: { url: string; token: string; tokenFile: string } | undefined;
  if (options.bridge) {
    const runDir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-demo-'));
    running.runDir = runDir;
    const token = randomBytes(32).toString('hex');
    const tokenFile = join(runDir, 'token');
    writeFileSync(tokenFile, `demo=${token}\n`, { mode: 0o600 });
    let httpPort = options.httpPort;
    if (!(await portFree(httpPort))) {
      if (!options.httpPortIsDefault)
        throw new OptionError(
          `port ${httpPort} on 127.0.0.1 is in use; pick another with --port N (or DEMO_HTTP_PORT)`,
        );
      say(`demo    port ${httpPort} is taken; the bridge takes a free port instead`);
      httpPort = 0;
    }
    say(`demo    starting the bridge: ${process.execPath} dist/index.js (HTTP, mutual TLS to the broker)`);
    // History into this run's own folder (removed at exit with the rest of runDir); only the
    // demo's bridge records there, so the commands in the notes below (a second bridge) go
    // without it and cannot collide with its lock on the file.
    const historyPath = join(runDir, 'history', 'history.db');
    const bridge = launchBridge(
      { rootDir: ROOT, env: { ...env, HISTORY_PATH: historyPath }, httpPort, tokenFile },
      say,
    );
    running.bridge = bridge;
    let port: number;
    try {
      port = await bridge.ready;
    } catch (error) {
      if (stopping !== undefined) return;
      throw error;
    }
    void bridge.exited.then((code) => {
      if (stopping === undefined) void stop(`the bridge exited unexpectedly with ${code}`, 1);
    });
    http = { url: `http://127.0.0.1:${port}`, token, tokenFile };
    say(`demo    bridge ready (pid ${bridge.pid}) at ${http.url}/mcp, connected to the broker`);
    say(`demo    bridge recording history to ${historyPath} (removed when the demo stops)`);
  }

  // The edge node starts once the bridge collects, so the bridge sees its BIRTHs (one that starts
  // later sees DATA with aliases only, until it asks for a rebirth).
  const edge = new EdgeNode(broker);
  await edge.start();
  const timer = setInterval(() => void edge.tick(), options.intervalMs);
  running.edge = { node: edge, timer };
  say(`demo    Sparkplug B edge node ${GROUP}/${EDGE} with device ${DEVICE} under spBv1.0/${GROUP}/#`);

  process.stdout.write(
    `\n${notes({
      node: process.execPath,
      server: SERVER,
      env,
      http,
      mqttPortFixed: broker.port === options.mqttPort,
      silentAfterSeconds: options.silentAfterSeconds,
    })}\n\n`,
  );
  if (options.durationSeconds > 0) {
    setTimeout(
      () => void stop(`duration of ${options.durationSeconds} s reached`, 0),
      options.durationSeconds * 1000,
    );
    say(`demo    ready; stops by itself after ${options.durationSeconds} s (or press Ctrl-C)`);
  } else {
    say('demo    ready; press Ctrl-C to stop');
  }
}

main().catch((error: unknown) => {
  const known = [OptionError, PkiError, BrokerError, BridgeError].some((kind) => error instanceof kind);
  say(
    `demo    error: ${known ? (error as Error).message : error instanceof Error ? error.stack : String(error)}`,
  );
  void stop('error', 1);
});
