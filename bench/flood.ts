/**
 * Publishes `count` QoS 0 messages of `size` bytes over `topics` topics as fast as the socket
 * takes them, then exits. Runs in its own process so it does not share an event loop with the
 * subscriber being measured. Usage: tsx bench/flood.ts <url> <pkiDir> <count> <topics> <size>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';

const [url, pkiDir, countText, topicsText, sizeText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const count = Number(countText);
const topics = Number(topicsText);
const payload = Buffer.alloc(Number(sizeText), 'x');
const client = await mqtt.connectAsync({
  protocol: 'mqtts',
  host: new URL(url).hostname,
  port: Number(new URL(url).port),
  protocolVersion: 5,
  ca: readFileSync(join(pkiDir, 'ca.crt')),
  cert: readFileSync(join(pkiDir, 'spy.crt')),
  key: readFileSync(join(pkiDir, 'spy.key')),
  reconnectPeriod: 0,
});
let sent = 0;
await new Promise<void>((resolve) => {
  const pump = () => {
    while (sent < count) {
      const ok = client.publish(`bench/t${sent % topics}`, payload, { qos: 0 });
      sent++;
      if (client.stream.writableNeedDrain) {
        client.stream.once('drain', pump);
        return;
      }
      void ok;
    }
    resolve();
  };
  pump();
});
await client.endAsync();
