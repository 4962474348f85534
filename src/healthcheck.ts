#!/usr/bin/env node
/**
 * Docker HEALTHCHECK. In stdio mode there is no listener to probe and the container lives only
 * as long as its client, so it reports healthy. In HTTP mode it asks /healthz (the MCP listener
 * answers) and prints the MQTT state from /readyz, so `docker inspect` shows the truth:
 * exit 0 when the listener answers; the output says whether MQTT is connected.
 */
import { request } from 'node:http';
import process from 'node:process';
import { healthcheckTarget } from './config/healthcheck-target.js';

// An entry point, like index.ts: the one other place that reads process.env.
const { transport, port } = healthcheckTarget(process.env);

function get(path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', timeout: 2000, headers: { host: '127.0.0.1' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

if (transport !== 'http') {
  process.stdout.write('stdio mode: no listener to check\n');
} else {
  const live = await get('/healthz');
  const ready = await get('/readyz');
  process.stdout.write(
    `mcp listener: ${live === 200 ? 'up' : 'down'}; mqtt: ${ready === 200 ? 'connected' : 'not connected'}\n`,
  );
  process.exitCode = live === 200 ? 0 : 1;
}
