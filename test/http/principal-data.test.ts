/**
 * One MCP principal against another, and against the bridge's secrets, over Streamable HTTP with
 * two bearer-token principals and the built server (issue 11, findings 5 and 7):
 * - an error never tells a right guess of a secret from a wrong one: the MQTT password, the key
 *   passphrase and another principal's token, guessed inside a filter, get the same answer;
 * - collection filters belong to the principal that added them: another principal sees a count,
 *   cannot remove them, and has its own quota.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv, textOf } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { startHttpProcess, type HttpProcess } from '../helpers/spawned.js';

const ALICE = randomBytes(32).toString('hex');
const BOB = randomBytes(32).toString('hex');
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

let pki: Pki;
let broker: Broker;
let server: HttpProcess;
const clients: Client[] = [];

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'principal-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as CallToolResult;

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  const tokens = `${pki.dir}/tokens-principals`;
  writeFileSync(tokens, `alice=${ALICE}\nbob=${BOB}\n`, { mode: 0o600 });
  const passwordFile = `${pki.dir}/mqtt-password`;
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  server = await startHttpProcess(
    bridgeEnv(broker, pki, {
      MCP_AUTH_TOKEN_FILE: tokens,
      MQTT_KEY_FILE: pki.encryptedKey,
      MQTT_KEY_PASSPHRASE_FILE: pki.passphraseFile,
      MQTT_USERNAME: 'mcp-bridge',
      MQTT_PASSWORD_FILE: passwordFile,
      MCP_MAX_SUBSCRIPTIONS_PER_CLIENT: '2',
    }),
  );
});
after(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await server?.stop();
  await broker?.stop();
});

describe('errors tell no right guess from a wrong one', () => {
  it("the MQTT password, the key passphrase and another principal's token, guessed in a filter", async () => {
    const alice = await connect(ALICE);
    const passphrase = readFileSync(pki.passphraseFile, 'utf8').trim();
    const wrong = (secret: string) => `${secret.slice(0, -3)}zzz`;
    for (const secret of [PASSWORD, passphrase, BOB]) {
      for (const tool of ['mqtt_unsubscribe', 'mqtt_read_messages', 'mqtt_subscribe']) {
        const right = textOf(await call(alice, tool, { filter: `guess/a b ${secret} c` }));
        const guess = textOf(await call(alice, tool, { filter: `guess/a b ${wrong(secret)} c` }));
        assert.equal(right, guess, `${tool}: a right guess answers differently`);
        assert.doesNotMatch(right, /REDACTED/);
      }
    }
  });
});

describe('collection filters per principal', () => {
  it('another principal sees a count, cannot remove them, and has its own quota', async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    const added = (await call(alice, 'mqtt_subscribe', { filter: 'plant/alice/#' }))
      .structuredContent as Record<string, any>;
    assert.equal(added.added, true);
    await call(alice, 'mqtt_subscribe', { filter: 'plant/alice2/#' });
    const full = await call(alice, 'mqtt_subscribe', { filter: 'plant/alice3/#' });
    assert.equal(full.isError, true);
    assert.match(textOf(full), /MCP_MAX_SUBSCRIPTIONS_PER_CLIENT/);

    const seen = (await call(bob, 'mqtt_status', {})).structuredContent as Record<string, any>;
    assert.deepEqual(
      seen.subscriptions.map((s: { filter: string }) => s.filter),
      ['plant/#'],
      "bob does not see alice's filters",
    );
    assert.equal(seen.otherClients, 2);
    assert.ok(!JSON.stringify(seen).includes('alice'));

    const removal = await call(bob, 'mqtt_unsubscribe', { filter: 'plant/alice/#' });
    assert.equal(removal.isError, true);
    assert.match(textOf(removal), /^NOT_FOUND: that is not a collection filter you added/);
    // The same answer as for a filter nobody added: bob cannot probe for alice's filters.
    assert.equal(textOf(removal), textOf(await call(bob, 'mqtt_unsubscribe', { filter: 'plant/nobody/#' })));

    // Bob's own quota is untouched by alice's.
    assert.equal(
      ((await call(bob, 'mqtt_subscribe', { filter: 'plant/bob/#' })).structuredContent as any).added,
      true,
    );
    const mine = (await call(alice, 'mqtt_status', {})).structuredContent as Record<string, any>;
    assert.deepEqual(
      mine.subscriptions.map((s: { filter: string }) => s.filter),
      ['plant/#', 'plant/alice/#', 'plant/alice2/#'],
    );
    assert.equal(mine.otherClients, 1);
  });
});
