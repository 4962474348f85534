/**
 * Connections before authentication, with the compose file's 1,024 file descriptors
 * (`ulimit -n 1024`): 1,100 raw sockets each holding a half-open request (headers never
 * finished), 400 from fifty addresses and 700 from one, then 600 more from the client's own
 * address, while a real SDK client initializes and calls tools. The server keeps the pending
 * connections within their bounds (per address and in total, closing the oldest past its grace),
 * its file descriptors below the limit throughout, and the client is served in time. A burst of
 * real requests on new connections is served in full; a connection that never finishes its
 * headers gets 408 after MCP_HTTP_HEADERS_TIMEOUT_SECONDS.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { addressKey, GRACE_MS } from '../../src/transports/http-connections.js';
import { sleep, startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { raw } from '../helpers/raw-http.js';
import { startHttpProcess, type HttpProcess } from '../helpers/spawned.js';

const FILE_LIMIT = 1024; // docker-compose.yml, service bridge: ulimits.nofile
const PER_ADDRESS = 32; // MCP_HTTP_MAX_UNAUTHENTICATED_PER_ADDRESS default
const TOTAL = 256; // MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS default

let pki: Pki;
let broker: Broker;
let server: HttpProcess;
const sockets: Socket[] = [];

interface Held {
  readonly open: () => number;
  readonly closed: () => number;
}

/** Open `count` sockets from `from` addresses, each sending the start of a request and no more. */
async function holdHalfOpen(port: number, count: number, from: (i: number) => string): Promise<Held> {
  let open = 0;
  let closed = 0;
  const started = Array.from({ length: count }, (_, i) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from(i) });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      closed++;
      open--;
    });
    return new Promise<void>((resolve) => {
      socket.once('connect', () => {
        open++;
        socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n`);
        resolve();
      });
      socket.once('close', () => resolve());
    });
  });
  await Promise.all(started);
  // Connected on our side can still mean waiting in the listen backlog, and a new connection is
  // closed to make room only after its grace: wait until the count of open sockets stops changing.
  for (let last = -1, deadline = Date.now() + 15_000; open !== last && Date.now() < deadline;) {
    last = open;
    await sleep(GRACE_MS + 500);
  }
  return { open: () => open, closed: () => closed };
}

function serverFileDescriptors(): number {
  return readdirSync(`/proc/${server.child.pid}/fd`).length;
}

async function refusedBy(reason: string, token: string): Promise<number> {
  const res = await raw(server.port, 'GET', '/metrics', {
    headers: { host: `127.0.0.1:${server.port}`, authorization: `Bearer ${token}` },
  });
  const line = res.body
    .split('\n')
    .find((l) => l.startsWith(`mqtt_mcp_bridge_http_requests_refused_total{reason="${reason}"}`));
  return Number(line?.split(' ').pop() ?? 0);
}

async function sdkClient(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: { Authorization: `Bearer ${server.token}` } },
  });
  const client = new Client({ name: 'behind-the-flood', version: '1' });
  await client.connect(transport, { timeout: 5000 });
  return { client, transport };
}

async function status(client: Client): Promise<CallToolResult> {
  return (await client.callTool({ name: 'mqtt_status', arguments: {} }, undefined, {
    timeout: 5000,
  })) as CallToolResult;
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  server = await startHttpProcess(bridgeEnv(broker, pki, { LOG_LEVEL: 'info' }), { fileLimit: FILE_LIMIT });
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  await server.stop();
  await broker.stop();
});

describe('connections before authentication', () => {
  it('1,100 half-open requests from 51 addresses do not keep a client from initializing and calling a tool', async (t) => {
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, serverFileDescriptors())), 20);
    // 400 from fifty addresses (8 each: under the per-address bound, over the total), then 700
    // from one address.
    const many = await holdHalfOpen(server.port, 400, (i) => `127.0.0.${3 + (i % 50)}`);
    const one = await holdHalfOpen(server.port, 700, () => '127.0.0.2');
    clearInterval(sampler);
    const open = one.open() + many.open();
    t.diagnostic(
      `held open after the flood: ${one.open()} from 127.0.0.2, ${many.open()} from 50 others; ` +
        `server file descriptors ${serverFileDescriptors()} of ${FILE_LIMIT}, at most ${peak} during the flood`,
    );
    assert.ok(one.open() <= PER_ADDRESS, `${one.open()} held from one address`);
    assert.ok(open <= TOTAL, `${open} unauthenticated connections held`);
    assert.ok(peak < FILE_LIMIT - 64, `${peak} file descriptors during the flood`);
    assert.ok(serverFileDescriptors() < FILE_LIMIT / 2, `${serverFileDescriptors()} file descriptors`);

    const started = performance.now();
    const { client, transport } = await sdkClient();
    try {
      const result = await status(client);
      assert.notEqual(result.isError, true);
      t.diagnostic(`initialize and mqtt_status took ${(performance.now() - started).toFixed(0)} ms`);
      const refusals = {
        address: await refusedBy('unauthenticated-address', server.token),
        total: await refusedBy('unauthenticated-total', server.token),
        dropped: await refusedBy('connections', server.token),
      };
      t.diagnostic(`closed: ${JSON.stringify(refusals)}`);
      assert.ok(refusals.address > 0 && refusals.total > 0, JSON.stringify(refusals));
      assert.equal(refusals.address + refusals.total + refusals.dropped + open, 1100);

      // 600 more from the client's own address: its authenticated connection is not theirs to
      // lose, and a second client from that address gets in too.
      const own = await holdHalfOpen(server.port, 600, () => '127.0.0.1');
      assert.ok(own.open() <= PER_ADDRESS, `${own.open()} held from 127.0.0.1`);
      assert.notEqual((await status(client)).isError, true);
      const second = await sdkClient();
      assert.notEqual((await status(second.client)).isError, true);
      await second.transport.terminateSession();
      await second.client.close();
      assert.ok(serverFileDescriptors() < FILE_LIMIT / 2, `${serverFileDescriptors()} file descriptors`);
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
  });

  it('a burst of 200 requests from one address, each on a new connection, is served in full', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await raw(server.port, 'GET', '/metrics', {
          headers: {
            host: `127.0.0.1:${server.port}`,
            authorization: `Bearer ${server.token}`,
            connection: 'close',
          },
        });
        return res.status;
      }),
    );
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
    );
  });

  it('a connection that never finishes its headers gets 408 after MCP_HTTP_HEADERS_TIMEOUT_SECONDS', async () => {
    const quick = await startHttpProcess(bridgeEnv(broker, pki, { MCP_HTTP_HEADERS_TIMEOUT_SECONDS: '2' }));
    try {
      const socket = connect({ host: '127.0.0.1', port: quick.port });
      sockets.push(socket);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
      const opened = performance.now();
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${quick.port}\r\n`);
      const seconds = ((await closed) - opened) / 1000;
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.ok(seconds >= 1.9 && seconds < 4.5, `closed after ${seconds.toFixed(1)} s`);
      // A complete request on a fresh connection is answered as usual.
      assert.equal((await raw(quick.port, 'GET', '/healthz')).status, 200);
    } finally {
      await quick.stop();
    }
  });
});

describe('the address a connection is counted under', () => {
  const CASES: Array<[string | undefined, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::7', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, ''],
  ];
  for (const [address, key] of CASES) {
    it(`${String(address)} -> ${key}`, () => assert.equal(addressKey(address), key));
  }
});
