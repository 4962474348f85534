/**
 * A paced flood publisher for the soak tests, in its own process so that it shares no event loop
 * with the bridge or the test: QoS 0 messages of `size` bytes over `topics` topics (`prefix`, the
 * topic's number, then `suffix` if given), at `rate` messages per second for `seconds`, with the
 * identity "spy" of the test PKI. FLOOD_QOS=1 in the environment: QoS 1 messages instead.
 * Prints one JSON line when connected ({"ready":true}) and one when done ({"sent":..,"seconds":..}).
 *
 * Usage: node --import tsx test/soak/flood-publisher.ts <url> <pkiDir> <rate> <seconds> <topics> <size> <prefix> [suffix]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';

const [url, pkiDir, rateText, secondsText, topicsText, sizeText, prefix, suffix = ''] = process.argv.slice(2);
if (prefix === undefined) {
  process.stderr.write(
    'usage: flood-publisher.ts <url> <pkiDir> <rate> <seconds> <topics> <size> <prefix> [suffix]\n',
  );
  process.exitCode = 2;
} else {
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  const topics = Number(topicsText);
  const payload = Buffer.alloc(Number(sizeText), 'f');
  const qos = process.env.FLOOD_QOS === '1' ? 1 : 0;
  const address = new URL(url as string);
  const client = await mqtt.connectAsync({
    protocol: 'mqtts',
    host: address.hostname,
    port: Number(address.port),
    protocolVersion: 5,
    ca: readFileSync(join(pkiDir as string, 'ca.crt')),
    cert: readFileSync(join(pkiDir as string, 'spy.crt')),
    key: readFileSync(join(pkiDir as string, 'spy.key')),
    reconnectPeriod: 0,
    clientId: `flood-${process.pid}`,
  });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const started = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  await new Promise<void>((resolve) => {
    // Every 5 ms, catch up with the schedule (rate x elapsed), pausing while the socket is full.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        client.publish(`${prefix}${sent % topics}${suffix}`, payload, { qos });
        sent++;
        if (client.stream.writableNeedDrain) {
          client.stream.once('drain', tick);
          return;
        }
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  const elapsed = (performance.now() - started) / 1000;
  await client.endAsync();
  process.stdout.write(`${JSON.stringify({ sent, seconds: elapsed })}\n`);
}
