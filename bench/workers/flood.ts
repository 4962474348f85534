/**
 * A flood publisher in its own process (so it does not share an event loop with what is
 * measured): connects with mqtt.js as the "spy" identity, then writes pre-encoded QoS 0 PUBLISH
 * packets straight to the TLS socket, as fast as the socket takes them. Encoding up front keeps
 * the publisher's CPU small, which matters on a 2-core machine where it competes with the
 * broker and the subscriber being measured.
 * Scheme `sparkplug`: a DBIRTH per device (20 metrics named m0..m19 with aliases 1..20) first,
 * then DDATA with the 20 metrics by alias only, over spBv1.0/bench/DDATA/e<i>/d (size ignored).
 * Usage: tsx bench/workers/flood.ts <url> <pkiDir> <count> <topics> <size> [prefix] [scheme] [v]
 * Prints {"done":true,"seconds":...} when everything is written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { jsonPayload, topicName, type TopicScheme } from '../lib/payload.js';
import { BENCH_BIRTH, BENCH_DATA } from '../lib/sparkplug-payloads.js';

const [url, pkiDir, countText, topicsText, sizeText, prefix = 'bench', scheme = 'flat'] = process.argv.slice(
  2,
) as [string, string, string, string, string, string?, string?];
const count = Number(countText);
const topics = Number(topicsText);
const payload = Buffer.from(jsonPayload(Number(sizeText)));
const sparkplug = scheme === 'sparkplug';
const birth = BENCH_BIRTH;
const data = BENCH_DATA;

/** The i-th message: its topic and payload. */
function message(i: number): [string, Buffer] {
  if (!sparkplug) return [topicName(prefix, scheme as TopicScheme, i % topics), payload];
  const device = i % topics;
  return i < topics
    ? [`spBv1.0/bench/DBIRTH/e${device}/d`, birth]
    : [`spBv1.0/bench/DDATA/e${device}/d`, data];
}

/** MQTT 5 PUBLISH, QoS 0: fixed header, varint length, topic, empty properties, payload. */
function encodePublish(topic: string, body: Buffer): Buffer {
  const t = Buffer.from(topic);
  const remaining = 2 + t.length + 1 + body.length;
  const header: number[] = [0x30];
  let n = remaining;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    header.push(byte);
  } while (n > 0);
  const out = Buffer.allocUnsafe(header.length + remaining);
  let o = 0;
  for (const b of header) out[o++] = b;
  out.writeUInt16BE(t.length, o);
  o += 2;
  t.copy(out, o);
  o += t.length;
  out[o++] = 0; // property length
  body.copy(out, o);
  return out;
}

const client = await mqtt.connectAsync({
  protocol: 'mqtts',
  host: new URL(url).hostname,
  port: Number(new URL(url).port),
  protocolVersion: 5,
  ca: readFileSync(join(pkiDir, 'ca.crt')),
  cert: readFileSync(join(pkiDir, 'spy.crt')),
  key: readFileSync(join(pkiDir, 'spy.key')),
  reconnectPeriod: 0,
  keepalive: 0,
});

// Pre-encode in batches of about 256 KiB.
const batches: Buffer[] = [];
let parts: Buffer[] = [];
let size = 0;
for (let i = 0; i < count; i++) {
  const packet = encodePublish(...message(i));
  parts.push(packet);
  size += packet.length;
  if (size >= 256 * 1024) {
    batches.push(Buffer.concat(parts));
    parts = [];
    size = 0;
  }
}
if (parts.length > 0) batches.push(Buffer.concat(parts));

const started = performance.now();
const stream = client.stream;
for (const batch of batches) {
  if (!stream.write(batch)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}
const seconds = (performance.now() - started) / 1000;
await client.endAsync();
process.stdout.write(JSON.stringify({ done: true, seconds, rate: count / seconds }) + '\n');
