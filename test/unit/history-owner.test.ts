/**
 * Whose history a store holds: every SQLite history file records its broker's name, and a file
 * that names another broker is never opened for this one. With MQTT_BROKERS_FILE reordered, each
 * broker still finds its own file (the main file follows the broker it names, not the first
 * position); a file made before files recorded their broker is claimed by the broker placed there.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { openHistories, placeHistories } from '../../src/broker-history.js';
import { loadConfig } from '../../src/config/load.js';
import { recordedBroker } from '../../src/history/sqlite.js';
import { HistoryOpenError, type HistoryBackend } from '../../src/history/types.js';
import { BROKERS_FILE, cloudConnection, files, siteConnection } from './support/config-fixtures.js';

const FILE = BROKERS_FILE;
// Both read everything: only the placement keeps one broker's past out of the other's answers.
const site = { ...siteConnection, read: ['#'] };
const cloud = { ...cloudConnection, read: ['#'] };

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mqtt-owner-'));
  dirs.push(d);
  return d;
}

const configOf = (dir: string, ...brokers: unknown[]) =>
  loadConfig(
    { MQTT_BROKERS_FILE: FILE, HISTORY_PATH: join(dir, 'history.db') },
    files({ [FILE]: JSON.stringify({ brokers }) }),
  );

const record = (backend: HistoryBackend, topic: string, broker: string) =>
  backend.append(
    [{ topic, payload: '1', sizeBytes: 1, qos: 0, retain: false, receivedAt: Date.now(), broker }],
    [],
  );

async function topicsOf(backend: HistoryBackend): Promise<string[]> {
  return (await backend.range({ filter: '#', limit: 100 })).messages.map((m) => m.topic).sort();
}

async function closeAll(opened: Map<string, { backend: HistoryBackend }>): Promise<void> {
  for (const { backend } of opened.values()) await backend.close();
}

/** Records one message per broker in the order [site, cloud], then closes. */
async function recordSiteThenCloud(dir: string): Promise<void> {
  const opened = await openHistories(configOf(dir, site, cloud));
  await record(opened.get('site')!.backend, 'plant/a', 'site');
  await record(opened.get('cloud')!.backend, 'fleet/b', 'cloud');
  await closeAll(opened);
}

describe('history per broker, by name', () => {
  it('records which broker each file holds', async () => {
    const dir = tempDir();
    await recordSiteThenCloud(dir);
    assert.equal(recordedBroker(join(dir, 'history.db')), 'site');
    assert.equal(recordedBroker(join(dir, 'history.cloud.db')), 'cloud');
    assert.equal(recordedBroker(join(dir, 'no-such.db')), undefined);
  });

  it('with the brokers reordered, each still reads its own past, and no file changes hands', async () => {
    const dir = tempDir();
    await recordSiteThenCloud(dir);
    const config = configOf(dir, cloud, site);
    const unconfigured: string[] = [];
    const { places } = placeHistories(config, (broker) => unconfigured.push(broker));
    assert.deepEqual(unconfigured, []);
    assert.deepEqual(
      places.map((p) => [p.broker, p.location]),
      [
        ['cloud', join(dir, 'history.cloud.db')],
        ['site', join(dir, 'history.db')],
      ],
    );
    const opened = await openHistories(config);
    try {
      assert.deepEqual(await topicsOf(opened.get('cloud')!.backend), ['fleet/b']);
      assert.deepEqual(await topicsOf(opened.get('site')!.backend), ['plant/a']);
      assert.equal(opened.get('cloud')!.path, join(dir, 'history.cloud.db'));
    } finally {
      await closeAll(opened);
    }
  });

  it('leaves the main file alone when its broker is no longer configured, and says whose it is', async () => {
    const dir = tempDir();
    await recordSiteThenCloud(dir);
    const config = configOf(dir, cloud);
    const unconfigured: string[] = [];
    const { places } = placeHistories(config, (broker) => unconfigured.push(broker));
    assert.deepEqual(unconfigured, ['site']);
    assert.deepEqual(
      places.map((p) => p.location),
      [join(dir, 'history.cloud.db')],
    );
    const opened = await openHistories(config);
    try {
      assert.deepEqual(await topicsOf(opened.get('cloud')!.backend), ['fleet/b']);
    } finally {
      await closeAll(opened);
    }
  });

  it("refuses a file that holds another broker's history, and leaves it as it was", async () => {
    const dir = tempDir();
    await recordSiteThenCloud(dir);
    // site's file where cloud's belongs (a copy made by hand, or a rename).
    copyFileSync(join(dir, 'history.db'), join(dir, 'history.cloud.db'));
    const before = readFileSync(join(dir, 'history.cloud.db'));
    await assert.rejects(
      openHistories(configOf(dir, site, cloud)),
      (error: unknown) =>
        error instanceof HistoryOpenError &&
        /history\.cloud\.db holds the history of broker 'site', not of 'cloud'; it was left as it was/.test(
          error.message,
        ),
    );
    assert.deepEqual(readFileSync(join(dir, 'history.cloud.db')), before);
  });

  it('a file made before files named their broker is claimed by the broker placed there', async () => {
    const dir = tempDir();
    await recordSiteThenCloud(dir);
    const db = new DatabaseSync(join(dir, 'history.db'));
    db.exec("DELETE FROM meta WHERE key = 'broker'");
    db.close();
    assert.equal(recordedBroker(join(dir, 'history.db')), undefined);
    const opened = await openHistories(configOf(dir, site, cloud));
    await closeAll(opened);
    assert.equal(recordedBroker(join(dir, 'history.db')), 'site');
  });
});
