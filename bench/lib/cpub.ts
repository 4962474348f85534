/**
 * mosquitto_pub as a latency ceiling: one long-lived C client reading lines from a pipe
 * (`-l`), QoS 1, debug output line-buffered through stdbuf. The time from writing a line to
 * reading its "received PUBACK" line is one publish, through two pipe hops, like an MCP stdio
 * call. It does not subscribe to what it publishes (it cannot).
 */
import { spawn } from 'node:child_process';
import { adopt } from '../../test/helpers/broker.js';
import type { BenchBroker } from './broker.js';
import type { Pki } from '../../test/helpers/pki.js';
import { waitExit } from './proc.js';

export interface CPublisher {
  publish(line: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCPublisher(broker: BenchBroker, pki: Pki, topic: string): Promise<CPublisher> {
  const child = adopt(
    spawn(
      'stdbuf',
      [
        '-oL',
        'mosquitto_pub',
        '-d',
        '-l',
        '-q',
        '1',
        '-V',
        '5',
        '-h',
        '127.0.0.1',
        '-p',
        String(broker.port),
        '--cafile',
        pki.ca,
        '--cert',
        pki.clientCert,
        '--key',
        pki.clientKey,
        '-t',
        topic,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    ),
  );
  let waiter: (() => void) | undefined;
  let connected: () => void = () => undefined;
  const ready = new Promise<void>((r) => (connected = r));
  let buffer = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.includes('received CONNACK')) connected();
      if (line.includes('received PUBACK')) {
        const w = waiter;
        waiter = undefined;
        w?.();
      }
    }
  });
  await ready;
  return {
    publish: (line: string) =>
      new Promise<void>((resolve) => {
        waiter = resolve;
        child.stdin?.write(`${line}\n`);
      }),
    close: async () => {
      child.stdin?.end();
      await waitExit(child, 3000);
    },
  };
}
