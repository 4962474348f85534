/**
 * ConnectionGate in-process, against a real http.Server on loopback and clients in another
 * process: a server starved of CPU between accepting connections and reading their requests
 * (simulated by blocking its event loop for longer than the grace) reads the requests already
 * waiting in its sockets before it enforces the bounds, and closes none of them as if their
 * clients had sent nothing. With a per-address bound of 1, one connection accepted but not read
 * is enough to be over it; before the fix the client got ECONNRESET, as the HTTP burst test did
 * on a loaded CI machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger.js';
import { Scrubber } from '../../src/logging/scrub.js';
import { ConnectionGate, GRACE_MS } from '../../src/transports/http-connections.js';

const COUNT = 40;

/** COUNT connections to `port`, each sending one request at once; prints their status lines. */
const CLIENTS = `
const net = require('node:net');
const port = Number(process.argv[1]);
const lines = [];
for (let i = 0; i < ${COUNT}; i++) {
  const s = net.connect({ host: '127.0.0.1', port });
  let data = '';
  s.on('data', (d) => (data += d));
  s.on('error', (e) => (data = 'error ' + e.code));
  s.on('close', () => {
    lines.push(data.split('\\r\\n')[0]);
    if (lines.length === ${COUNT}) process.stdout.write(JSON.stringify(lines));
  });
  s.end('GET / HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n');
}`;

function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('ConnectionGate', () => {
  it('a server starved between accepting and reading closes none of the requests waiting in its sockets', async () => {
    const refused: string[] = [];
    const gate = new ConnectionGate(
      { max: 1000, maxUnauthenticated: 256, maxUnauthenticatedPerAddress: 1 },
      (reason) => refused.push(reason),
      createLogger({ level: 'silent', scrubber: new Scrubber([]) }),
    );
    const server = createServer();
    gate.attach(server);
    server.on('request', (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      let admitted = 0;
      let starved = 0;
      // Connections accepted, their requests not read yet: the process gets no CPU for longer
      // than the grace (setImmediate runs before the next poll phase, which would read them).
      server.on('connection', () => {
        if (++admitted >= 5 && starved === 0) {
          starved = admitted;
          setImmediate(() => block(GRACE_MS + 500));
        }
      });
      const child = spawn(process.execPath, ['-e', CLIENTS, String(port)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      // Let the clients connect and send while this process does not accept: they wait in the
      // backlog, and are then accepted together.
      block(1000);
      await exited;
      const lines = JSON.parse(out) as string[];
      assert.ok(starved >= 5, `starved after ${starved} connections were accepted`);
      assert.deepEqual(
        lines.filter((l) => l !== 'HTTP/1.1 200 OK'),
        [],
      );
      assert.deepEqual(refused, []);
    } finally {
      server.close();
    }
  });
});
