/**
 * OAuth 2.1 resource-server mode (T-1.5): JWT access tokens signed with a local key and a
 * JWKS served on loopback. Wrong audience, expiry, signature or issuer is 401; a missing
 * scope is 403 with a scope= challenge; publishing needs the write scope; the protected
 * resource metadata (RFC 9728) names this server and its authorization server. Principals:
 * a token without a subject is 401, `sub` and `client_id` of the same value are different
 * principals, and the JWT `typ` must not name another kind of token (RFC 9068).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { startBroker, type Broker } from '../helpers/broker.js';
import { bridgeEnv, textOf } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { startHttpProcess, type HttpProcess } from '../helpers/spawned.js';
import { raw } from '../helpers/raw-http.js';

let pki: Pki;
let broker: Broker;
let server: HttpProcess;
let jwksServer: Server;
let issuer: string;
let signingKey: CryptoKey;
let strangerKey: CryptoKey;

const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

async function token(
  claims: {
    aud?: string;
    iss?: string;
    scope?: string;
    expiresIn?: string;
    /** null: no sub claim. */
    sub?: string | null;
    clientId?: string;
    /** The JWT header typ; null: none. */
    typ?: string | null;
  },
  key: CryptoKey = signingKey,
): Promise<string> {
  const jwt = new SignJWT({
    scope: claims.scope ?? 'mqtt:read mqtt:write',
    ...(claims.clientId !== undefined ? { client_id: claims.clientId } : {}),
  })
    .setProtectedHeader({
      alg: 'ES256',
      kid: 'test-key',
      ...(claims.typ !== null ? { typ: claims.typ ?? 'at+jwt' } : {}),
    })
    .setIssuer(claims.iss ?? issuer)
    .setAudience(claims.aud ?? `${server.url}/mcp`)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '5m');
  if (claims.sub !== null) jwt.setSubject(claims.sub ?? 'operator-1');
  return jwt.sign(key);
}

async function post(
  bearer: string,
  on: HttpProcess = server,
  extra: Record<string, string> = {},
  body = INIT,
) {
  return raw(on.port, 'POST', '/mcp', {
    headers: {
      host: `127.0.0.1:${on.port}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${bearer}`,
      ...extra,
    },
    body,
  });
}

before(async () => {
  pki = createPki();
  broker = await startBroker({ pki });
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  strangerKey = (await generateKeyPair('ES256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
  jwksServer = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
  issuer = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`;
  server = await startHttpProcess(
    bridgeEnv(broker, pki, {
      MCP_AUTH: 'oauth',
      MCP_OAUTH_ISSUER: issuer,
      MCP_WRITE_TOPICS: 'plant/#',
      LOG_LEVEL: 'info',
    }),
  );
});
after(async () => {
  await server.stop();
  jwksServer.close();
  await broker.stop();
});

describe('OAuth resource server (T-1.5)', () => {
  it('accepts a token for this server from the issuer, with the scopes', async () => {
    const res = await post(await token({}));
    assert.equal(res.status, 200, res.body);
  });

  const refused: Array<{ name: string; make: () => Promise<string>; describe: RegExp }> = [
    {
      name: 'audience of another resource',
      make: () => token({ aud: 'https://other.example/mcp' }),
      describe: /audience/,
    },
    { name: 'expired token', make: () => token({ expiresIn: '-1m' }), describe: /expired/ },
    { name: 'bad signature', make: () => token({}, strangerKey), describe: /signature/ },
    {
      name: 'wrong issuer',
      make: () => token({ iss: 'https://evil.example' }),
      describe: /another authorization server/,
    },
    { name: 'not a JWT', make: async () => 'not-a-jwt-at-all', describe: /not valid|cannot be verified/ },
  ];
  for (const c of refused) {
    it(`401 for ${c.name}, with WWW-Authenticate pointing at the resource metadata`, async () => {
      const bearer = await c.make();
      const res = await post(bearer);
      assert.equal(res.status, 401, res.body);
      const challenge = String(res.headers['www-authenticate']);
      assert.match(challenge, /^Bearer error="invalid_token"/);
      assert.match(challenge, c.describe);
      assert.match(
        challenge,
        /resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp"/,
      );
      assert.ok(!server.stderr().includes(bearer), 'a token reached the log');
    });
  }

  it('403 with a scope= challenge when the token lacks the required scope', async () => {
    const res = await post(await token({ scope: 'profile' }));
    assert.equal(res.status, 403);
    assert.match(String(res.headers['www-authenticate']), /error="insufficient_scope".*scope="mqtt:read"/);
  });

  it('serves protected resource metadata naming this server and its issuer', async () => {
    const res = await raw(server.port, 'GET', '/.well-known/oauth-protected-resource/mcp');
    const metadata = JSON.parse(res.body);
    assert.equal(metadata.resource, `${server.url}/mcp`);
    assert.deepEqual(metadata.authorization_servers, [issuer]);
    assert.deepEqual(metadata.scopes_supported, ['mqtt:read', 'mqtt:write']);
  });

  it('publishing needs the write scope; a read-only token gets an isError result', async () => {
    const readOnly = await token({ scope: 'mqtt:read', sub: 'viewer' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${readOnly}` } },
    });
    const client = new Client({ name: 'oauth', version: '1' });
    await client.connect(transport);
    try {
      const result = (await client.callTool({
        name: 'mqtt_publish',
        arguments: { topic: 'plant/x/cmd', payload: 'on' },
      })) as CallToolResult;
      assert.equal(result.isError, true);
      assert.match(textOf(result), /needs the OAuth scope 'mqtt:write'/);
    } finally {
      await client.close();
    }
  });
});

describe('OAuth principals (one subject never becomes another)', () => {
  const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  const inSession = (bearer: string, id: string) =>
    post(bearer, server, { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }, LIST);

  it('a token with neither sub nor client_id is refused with 401', async () => {
    const res = await post(await token({ sub: null }));
    assert.equal(res.status, 401, res.body);
    assert.match(String(res.headers['www-authenticate']), /error="invalid_token".*names no subject/);
    const empty = await post(await token({ sub: '' }));
    assert.equal(empty.status, 401, empty.body);
  });

  it('a client_id=alice token cannot use the session of sub=alice, nor the other way round', async () => {
    const user = await token({ sub: 'alice' });
    const client = await token({ sub: null, clientId: 'alice' });
    const userSession = (await post(user)).headers['mcp-session-id'] as string;
    const clientSession = (await post(client)).headers['mcp-session-id'] as string;
    assert.equal((await inSession(client, userSession)).status, 404);
    assert.equal((await inSession(user, clientSession)).status, 404);
    assert.equal((await inSession(user, userSession)).status, 200);
    assert.equal((await inSession(client, clientSession)).status, 200);
    // With both claims, sub names the principal (client_id is then only the client it used).
    const both = await token({ sub: 'alice', clientId: 'some-app' });
    assert.equal((await inSession(both, userSession)).status, 200);
  });

  it('typ: at+jwt (also application/at+jwt), the generic JWT and none are accepted; another kind of JWT is 401', async () => {
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'JWT', null]) {
      assert.equal((await post(await token({ typ }))).status, 200, `typ ${String(typ)}`);
    }
    for (const typ of ['logout+jwt', 'secevent+jwt', 'application/id_token+jwt', 'dpop+jwt']) {
      const res = await post(await token({ typ }));
      assert.equal(res.status, 401, `typ ${typ}`);
      assert.match(String(res.headers['www-authenticate']), /not an access token \(typ\)/);
    }
  });

  it('MCP_OAUTH_REQUIRE_AT_JWT=true accepts only typ at+jwt (RFC 9068 section 4)', async () => {
    const strict = await startHttpProcess(
      bridgeEnv(broker, pki, {
        MCP_AUTH: 'oauth',
        MCP_OAUTH_ISSUER: issuer,
        MCP_OAUTH_AUDIENCE: `${server.url}/mcp`,
        MCP_OAUTH_REQUIRE_AT_JWT: 'true',
        LOG_LEVEL: 'info',
      }),
    );
    try {
      assert.equal((await post(await token({ typ: 'at+jwt' }), strict)).status, 200);
      assert.equal((await post(await token({ typ: 'application/at+jwt' }), strict)).status, 200);
      for (const typ of ['JWT', null, 'logout+jwt']) {
        const res = await post(await token({ typ }), strict);
        assert.equal(res.status, 401, `typ ${String(typ)}`);
        assert.match(String(res.headers['www-authenticate']), /not an RFC 9068 access token/);
      }
    } finally {
      await strict.stop();
    }
  });
});
