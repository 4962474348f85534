import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { clientOptions, makeClientId } from '../../src/mqtt/options.js';
import { routeOf } from '../../src/mqtt/subscriber.js';
import { URL_OK, configError, expectProblems, files } from './support/config-fixtures.js';

const load = (env: Record<string, string>) => loadConfig({ MQTT_URL: URL_OK, ...env }, files());

describe('replica settings', () => {
  it('without MQTT_REPLICA_ID: a random suffix, clean start, session expiry 0', () => {
    const { mqtt } = load({});
    assert.deepEqual(mqtt.replica, { replicaId: undefined, sessionExpirySeconds: 0, shareGroup: undefined });
    const id = makeClientId(mqtt.clientIdPrefix, mqtt.replica.replicaId);
    assert.match(id, /^mcp-bridge-[0-9a-f]{12}$/);
    const options = clientOptions(mqtt, id);
    assert.equal(options.clean, true);
    assert.equal(options.properties?.sessionExpiryInterval, 0);
    assert.equal(options.properties?.receiveMaximum, undefined);
  });

  it('with MQTT_REPLICA_ID: the exact id, a kept session (300 s by default), clean start off', () => {
    const { mqtt } = load({ MQTT_CLIENT_ID: 'site', MQTT_REPLICA_ID: 'b-2', MQTT_SHARE_GROUP: 'g' });
    assert.deepEqual(mqtt.replica, { replicaId: 'b-2', sessionExpirySeconds: 300, shareGroup: 'g' });
    const id = makeClientId(mqtt.clientIdPrefix, mqtt.replica.replicaId);
    assert.equal(id, 'site-b-2');
    const options = clientOptions(mqtt, id);
    assert.equal(options.clientId, 'site-b-2');
    assert.equal(options.clean, false);
    assert.equal(options.properties?.sessionExpiryInterval, 300);
    assert.equal(options.properties?.receiveMaximum, 65_535);
  });

  it('MQTT_SESSION_EXPIRY_SECONDS=0 with a replica id: a stable id, the session ends with the connection', () => {
    const { mqtt } = load({ MQTT_REPLICA_ID: 'a', MQTT_SESSION_EXPIRY_SECONDS: '0' });
    assert.equal(mqtt.replica.sessionExpirySeconds, 0);
    assert.equal(clientOptions(mqtt, 'x').clean, true);
  });

  for (const [name, env, problems] of [
    ['a replica id with a space', { MQTT_REPLICA_ID: 'a b' }, [/^MQTT_REPLICA_ID: must be 1-40 characters/]],
    ['a replica id over 40', { MQTT_REPLICA_ID: 'r'.repeat(41) }, [/^MQTT_REPLICA_ID: must be 1-40/]],
    [
      'a share group with a slash',
      { MQTT_SHARE_GROUP: 'a/b' },
      [/^MQTT_SHARE_GROUP: must be 1-40 characters/],
    ],
    ['a share group with +', { MQTT_SHARE_GROUP: 'a+' }, [/^MQTT_SHARE_GROUP: must be 1-40 characters/]],
    [
      'a negative expiry',
      { MQTT_SESSION_EXPIRY_SECONDS: '-1' },
      [/^MQTT_SESSION_EXPIRY_SECONDS: must be a whole/],
    ],
    [
      'an expiry over the MQTT maximum',
      { MQTT_REPLICA_ID: 'a', MQTT_SESSION_EXPIRY_SECONDS: '4294967296' },
      [/^MQTT_SESSION_EXPIRY_SECONDS: must be at most 4294967295/],
    ],
    [
      'a kept session without a replica id',
      { MQTT_SESSION_EXPIRY_SECONDS: '60' },
      [/^MQTT_SESSION_EXPIRY_SECONDS: a session kept after a disconnect needs MQTT_REPLICA_ID/],
    ],
    [
      'a share group over MQTT 3.1.1',
      { MQTT_SHARE_GROUP: 'g', MQTT_PROTOCOL_VERSION: '4' },
      [/^MQTT_SHARE_GROUP: needs MQTT 5 .* broker default uses protocol version 4/],
    ],
    [
      'a replica id with auto',
      { MQTT_REPLICA_ID: 'a', MQTT_PROTOCOL_VERSION: 'auto' },
      [/^MQTT_REPLICA_ID: needs MQTT 5 .*set MQTT_PROTOCOL_VERSION=5/],
    ],
  ] as const) {
    it(`refuses ${name}`, () => {
      expectProblems(configError({ MQTT_URL: URL_OK, ...env }).problems, problems);
    });
  }
});

describe('routeOf (subscription identifiers with a share group)', () => {
  const cases: Array<[number | number[] | undefined, string]> = [
    [undefined, 'both'],
    [1, 'collect'],
    [2, 'live'],
    [[1, 2], 'both'],
    [[2], 'live'],
    [[7], 'both'],
  ];
  for (const [ids, route] of cases) {
    it(`${JSON.stringify(ids)} -> ${route}`, () => assert.equal(routeOf(ids), route));
  }
});
