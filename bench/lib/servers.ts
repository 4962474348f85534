/**
 * Starting the servers under test over stdio: the built bridge (dist/index.js) and the minimal
 * SDK server, initialized and, for the bridge, connected to the broker with its collection
 * subscriptions in place.
 */
import { MINIMAL, SERVER } from './context.js';
import { sleep } from './proc.js';
import { spawnStdio, type StdioRpc } from './rpc.js';

export async function startBridge(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<StdioRpc> {
  const rpc = spawnStdio(SERVER, env, nodeArgs);
  await rpc.initialize();
  await rpc.request('tools/list');
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = (await rpc.ok('mqtt_status')).structuredContent as Record<string, any>;
    if (status.connection?.state === 'connected') break;
    if (Date.now() > deadline)
      throw new Error(`bridge not connected: ${JSON.stringify(status.connection)}\n${rpc.stderr()}`);
    await sleep(25);
  }
  // The collection SUBSCRIBE goes out right after CONNACK; give the SUBACK a moment.
  await sleep(100);
  return rpc;
}

export async function startMinimal(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<StdioRpc> {
  const rpc = spawnStdio(MINIMAL, env, nodeArgs);
  await rpc.initialize();
  await rpc.request('tools/list');
  return rpc;
}

/** Store figures of a running bridge (from mqtt_status). */
export async function storeStats(rpc: StdioRpc): Promise<Record<string, any>> {
  const status = (await rpc.ok('mqtt_status')).structuredContent as Record<string, any>;
  return status.store as Record<string, any>;
}

/** Poll mqtt_status until the store holds `messages` messages (or stops growing). */
export async function waitForStore(
  rpc: StdioRpc,
  want: { messages?: number; topics?: number },
  timeoutMs = 120_000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const store = await storeStats(rpc);
    const done =
      (want.messages === undefined || store.messages >= want.messages) &&
      (want.topics === undefined || store.topics >= want.topics);
    if (done) return store;
    if (store.received !== last) {
      last = store.received;
      stableSince = Date.now();
    } else if (Date.now() - stableSince > 3000) return store;
    if (Date.now() > deadline) return store;
    await sleep(100);
  }
}
