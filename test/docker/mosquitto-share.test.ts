/**
 * What Mosquitto does with a shared-subscription member that disappears (docs/SCALING.md), on a
 * second Mosquitto version: Debian trixie's (2.0.21, the stand-in image of
 * scripts/docker-images.sh), closer to the eclipse-mosquitto release the compose files pin than
 * the installed bookworm one the integration suite runs the same cases against. The shipped
 * mosquitto.conf and ACL, the mTLS port published on 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { describeShareMembers, type ShareBroker } from '../helpers/share-members.js';
import {
  createDockerPki,
  docker,
  eventually,
  prepareEngineAndStandins,
  removePki,
  type DockerPki,
} from './support/docker.js';
import { startPublishedBroker } from './support/mqtt-containers.js';

let pki: DockerPki | undefined;
let broker: Awaited<ReturnType<typeof startPublishedBroker>> | undefined;
let target: ShareBroker;

before(
  async () => {
    const { mosquittoTrixieImage } = prepareEngineAndStandins();
    pki = createDockerPki();
    const dir = pki.dir;
    broker = await startPublishedBroker(mosquittoTrixieImage, pki);
    const started = broker;
    target = {
      port: started.port,
      // The bridge's identity (CN mcp-bridge), which the shipped ACL lets read and write plant/#.
      tls: {
        ca: readFileSync(join(dir, 'ca.crt')),
        cert: readFileSync(join(dir, 'client.crt')),
        key: readFileSync(join(dir, 'client.key')),
      },
      waitForLog: (pattern) =>
        eventually(
          async () => pattern.test(await started.log()),
          10_000,
          `the broker log to match ${pattern}`,
          50,
        ),
    };
  },
  { timeout: 600_000 },
);

after(async () => {
  if (broker !== undefined) await docker(['rm', '-f', '-v', broker.id]);
  removePki(pki);
});

describe('Mosquitto (Debian trixie)', () => {
  it('is a newer release than the installed one (2.0.11)', async () => {
    const version = /mosquitto version (\d+)\.(\d+)\.(\d+) running/.exec((await broker?.log()) ?? '');
    assert.ok(version !== null, 'the log names the version');
    const [major, minor, patch] = version.slice(1).map(Number) as [number, number, number];
    process.stderr.write(`mosquitto-share: Mosquitto ${major}.${minor}.${patch}\n`);
    assert.ok(major * 1e6 + minor * 1e3 + patch > 2_000_011, `${major}.${minor}.${patch}`);
  });
});

describeShareMembers('Mosquitto (Debian trixie)', () => target);
