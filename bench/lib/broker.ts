/**
 * The bench's own Mosquitto: like the test broker (TLS with client certificates on 127.0.0.1,
 * an ephemeral port, the test PKI), but without per-packet debug logging, which would make the
 * broker write two log lines per message and turn every figure into a measure of its log file.
 * `nodelay` sets Mosquitto's `set_tcp_nodelay` (the Mosquitto default is false).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MOSQUITTO, adopt, freePort, sleep } from '../../test/helpers/broker.js';
import type { Pki } from '../../test/helpers/pki.js';
import { onCpu } from './proc.js';

export interface BenchBroker {
  readonly port: number;
  readonly url: string;
  readonly nodelay: boolean;
  readonly pid: number;
  log(): string;
  stop(): Promise<void>;
}

/** Everyone may read and write everything: the bench measures speed, the tests check the ACL. */
const ACL = ['user mcp-bridge', 'topic readwrite #', '', 'user spy', 'topic readwrite #', ''].join('\n');

export async function startBenchBroker(pki: Pki, options: { nodelay: boolean }): Promise<BenchBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-bench-broker-'));
  const logFile = join(dir, 'mosquitto.log');
  const aclFile = join(dir, 'acl');
  writeFileSync(aclFile, ACL);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'per_listener_settings true',
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        `cafile ${pki.ca}`,
        `certfile ${pki.serverCert}`,
        `keyfile ${pki.serverKey}`,
        'require_certificate true',
        'use_identity_as_username true',
        'tls_version tlsv1.2',
        `acl_file ${aclFile}`,
        `set_tcp_nodelay ${options.nodelay ? 'true' : 'false'}`,
        'persistence false',
        // Queue for a subscriber that is behind instead of dropping: the ingest case stops the
        // subscriber during the flood and lets it drain afterwards (Mosquitto drops QoS 0
        // messages to a client with more than max_queued_messages packets waiting, default 1000).
        'max_queued_messages 100000000',
        `log_dest file ${logFile}`,
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        'connection_messages false',
        '',
      ].join('\n'),
    );
    const child: ChildProcess = adopt(
      spawn(...onCpu('load', MOSQUITTO, ['-c', conf]), { stdio: ['ignore', 'ignore', 'pipe'] }),
    );
    const deadline = Date.now() + 5000;
    let running = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (/mosquitto version \S+ running/.test(log())) {
        running = true;
        break;
      }
      await sleep(20);
    }
    if (!running) {
      child.kill('SIGKILL');
      continue;
    }
    return {
      port,
      url: `mqtts://127.0.0.1:${port}`,
      nodelay: options.nodelay,
      pid: child.pid ?? 0,
      log,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw new Error(`mosquitto did not start:\n${log()}`);
}
