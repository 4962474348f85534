/**
 * Silence at the default threshold, in real time (about 70 s, so in the soak suite): two devices
 * report every second; one stops. mqtt_find_silent without silentSeconds uses 3x the topic's
 * median gap with a floor of 60 s, so the stopped device is found once 60 s have passed since
 * its last message (not before), and the steady one never is. Through the built server over
 * stdio, a real Mosquitto over mutual TLS and a real history file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sleep, type Broker } from '../helpers/broker.js';
import { historyEnv, written, historyFixture } from '../helpers/history.js';
import { type Pki } from '../helpers/pki.js';
import { spawnBridge } from '../helpers/spawned.js';
import { type Spy } from '../helpers/spy.js';

let pki: Pki;
let broker: Broker;
let spy: Spy;
let dir: string;
historyFixture('mqtt-history-silent-', (f) => ({ pki, broker, spy, dir } = f));

interface Silent {
  topic: string;
  lastSeenAt: string;
  silentSeconds: number;
  usualIntervalSeconds?: number;
  thresholdSeconds: number;
}

describe('silence at the default threshold', { timeout: 150_000 }, () => {
  it('a device that stops is found silent after the 60 s floor, a steady one never', async (t) => {
    const bridge = await spawnBridge('stdio', historyEnv(broker, pki, join(dir, 'history.db')));
    let beats = 0;
    const beat = () => {
      beats++;
      void spy.publish('plant/d/steady', String(beats));
      if (beats <= 6) void spy.publish('plant/d/stops', String(beats));
    };
    const timer = setInterval(beat, 1000);
    try {
      await bridge.connected();
      await sleep(6500);
      await written(bridge, 12);
      const stoppedAt = Date.now() - 500; // its sixth and last message was about half a second ago
      let found: Silent | undefined;
      // The latest check that did not find it, in ms after its last message.
      let missedAt = 0;
      while (found === undefined) {
        const result = await bridge.ok('mqtt_find_silent', { filter: 'plant/d/#' });
        assert.equal(result.source, 'history');
        const silent = result.silent as Silent[];
        assert.ok(
          !silent.some((s) => s.topic === 'plant/d/steady'),
          `the steady device: ${JSON.stringify(silent)}`,
        );
        found = silent.find((s) => s.topic === 'plant/d/stops');
        if (found === undefined) {
          assert.ok(Date.now() - stoppedAt < 75_000, 'not found silent within 75 s of its last message');
          missedAt = Date.now() - stoppedAt;
          await sleep(2000);
        }
      }
      assert.equal(found.thresholdSeconds, 60, JSON.stringify(found));
      assert.ok(found.silentSeconds > 60, JSON.stringify(found));
      // Without the floor, 3x its 1 s gap would have made it silent after about 3 s.
      assert.ok(missedAt >= 50_000, `not silent ${missedAt} ms after its last message, then found`);
      assert.ok(
        found.usualIntervalSeconds !== undefined && Math.abs(found.usualIntervalSeconds - 1) < 0.3,
        JSON.stringify(found),
      );
      t.diagnostic(`found silent after ${found.silentSeconds} s (threshold ${found.thresholdSeconds} s)`);
    } finally {
      clearInterval(timer);
      await bridge.close();
    }
  });
});
