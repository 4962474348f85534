/**
 * docker-compose.scale.yml with the real engine: Mosquitto over mTLS, PostgreSQL, two bridge
 * replicas in one share group and HAProxy in front (docs/SCALING.md). A flood is recorded exactly
 * once across the replicas (counted in the database with psql); a replica killed mid-flood and
 * started again loses nothing the broker acknowledged to the publisher; MCP sessions through the
 * proxy stick to the replica that holds them, and reads through either replica agree; a replica
 * lost ends only its own sessions and calls.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { freePort, sleep } from '../../helpers/broker.js';
import { raw } from '../../helpers/raw-http.js';
import { ROOT, docker, dockerOk, eventually, leftovers, loadYaml, type DockerPki } from './docker.js';
import { composeBaseEnv, composeProject } from './compose.js';
import { assertHardened } from './hardening.js';
import { bridgeIdentity, startFlood } from './mqtt-containers.js';

export interface ScaleContext {
  readonly project: string;
  readonly bridgeImage: string;
  readonly nodeImage: string;
  readonly mosquittoImage: string;
  readonly postgresImage: string;
  readonly haproxyImage: string;
  readonly pki: DockerPki;
}

const FILE = join(ROOT, 'docker-compose.scale.yml');
const SERVICES = ['mosquitto', 'postgres', 'bridge-a', 'bridge-b', 'proxy'] as const;

interface Session {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  /** The replica the proxy sent it to, from the session id's prefix. */
  readonly replica: string;
  close(): Promise<void>;
}

/** Registers the suite; `context` is read once the outer before() has built the images. */
export function describeScale(context: () => ScaleContext): void {
  describe('docker-compose.scale.yml (PostgreSQL, two replicas, HAProxy)', { timeout: 480_000 }, () => {
    let ctx: ScaleContext;
    let hostPort = 0;
    let started = false;

    const env = (): NodeJS.ProcessEnv => ({
      ...composeBaseEnv(),
      BRIDGE_IMAGE: ctx.bridgeImage,
      NODE_IMAGE: ctx.nodeImage,
      MOSQUITTO_IMAGE: ctx.mosquittoImage,
      POSTGRES_IMAGE: ctx.postgresImage,
      HAPROXY_IMAGE: ctx.haproxyImage,
      CERTS_DIR: ctx.pki.dir,
      MCP_TOKEN_FILE: ctx.pki.tokenFile,
      DB_PASSWORD_FILE: join(ctx.pki.dir, 'db_password'),
      DB_PASSWORD_FILE_POSTGRES: join(ctx.pki.dir, 'db_password.postgres'),
      MCP_HOST_PORT: String(hostPort),
    });
    const { compose, composeOk, serviceId, healthy } = composeProject(FILE, () => ctx.project, env);
    const psql = async (sql: string): Promise<string> =>
      dockerOk([
        'exec',
        await serviceId('postgres'),
        'psql',
        '-U',
        'bridge',
        '-d',
        'history',
        '-tA',
        '-c',
        sql,
      ]);
    /** Rows and distinct payloads of a topic in the shared history. */
    const recorded = async (topic: string): Promise<{ rows: number; distinct: number }> => {
      const out = await psql(
        `SELECT count(*), count(DISTINCT m.payload) FROM mqtt_history.messages m JOIN mqtt_history.topics t ON t.id = m.topic_id WHERE t.topic = '${topic}'`,
      );
      const [rows, distinct] = out.split('|').map(Number);
      return { rows: rows ?? 0, distinct: distinct ?? 0 };
    };
    const session = async (): Promise<Session> => {
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${hostPort}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${ctx.pki.token}` } },
      });
      const client = new Client({ name: 'docker-scale', version: '1.0.0' });
      await client.connect(transport);
      const replica = /^([^:]+):/.exec(transport.sessionId ?? '')?.[1] ?? '';
      return {
        client,
        transport,
        replica,
        close: async () => {
          await transport.terminateSession().catch(() => undefined);
          await client.close();
        },
      };
    };
    /** One session on each replica (the proxy spreads new sessions round robin). */
    const sessionsOnBoth = async (): Promise<Map<string, Session>> => {
      const found = new Map<string, Session>();
      const extra: Session[] = [];
      for (let i = 0; i < 10 && found.size < 2; i++) {
        const s = await session();
        if (found.has(s.replica)) extra.push(s);
        else found.set(s.replica, s);
      }
      for (const s of extra) await s.close();
      assert.deepEqual([...found.keys()].sort(), ['a', 'b'], 'new sessions reach both replicas');
      return found;
    };
    const tool = async (s: Session, name: string, args: Record<string, unknown> = {}): Promise<any> => {
      const result = (await s.client.callTool({ name, arguments: args })) as CallToolResult;
      assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
      return result.structuredContent;
    };
    /** With b gone: a new session lands on a, connected and recording. */
    const continuesOnA = async (): Promise<void> => {
      const fresh = await session();
      try {
        assert.equal(fresh.replica, 'a');
        const status = await tool(fresh, 'mqtt_status');
        assert.equal(status.connection.state, 'connected');
        assert.equal(status.history.state, 'recording');
      } finally {
        await fresh.close();
      }
    };
    before(
      async () => {
        ctx = context();
        hostPort = await freePort();
        const made = spawnSync('sh', ['scripts/docker-db-password.sh', ctx.pki.dir], {
          cwd: ROOT,
          encoding: 'utf8',
        });
        // Status 3: not root; throw-away test secrets in a private temp dir, made readable instead.
        if (made.status === 3)
          for (const f of ['db_password', 'db_password.postgres']) chmodSync(join(ctx.pki.dir, f), 0o644);
        else if (made.status !== 0) throw new Error(`scripts/docker-db-password.sh failed: ${made.stderr}`);
        assert.doesNotMatch(made.stderr, /[0-9a-f]{48}/, 'the password is never printed');
        started = true;
        await composeOk(['up', '-d', '--no-build'], 300_000);
      },
      { timeout: 360_000 },
    );

    after(
      async () => {
        if (!started) return;
        const down = await compose(['down', '-v', '--remove-orphans', '-t', '10'], 120_000);
        if (down.code !== 0) process.stderr.write(`docker-compose down (scale): ${down.stderr}\n`);
        const left = await leftovers(`label=com.docker.compose.project=${ctx.project}`);
        for (const item of left) {
          const [kind, id] = item.split(' ') as [string, string];
          if (kind === 'container') await docker(['rm', '-f', '-v', id]);
          else if (kind === 'network') await docker(['network', 'rm', id]);
          else await docker(['volume', 'rm', '-f', id]);
        }
        assert.deepEqual(await leftovers(`label=com.docker.compose.project=${ctx.project}`), []);
      },
      { timeout: 180_000 },
    );

    it('brings every service up (healthy where it has a healthcheck) with the hardening it declares', async () => {
      for (const service of ['mosquitto', 'postgres', 'bridge-a', 'bridge-b'])
        await healthy(service, 120_000);
      const file = loadYaml(FILE);
      const writable: Record<string, Record<string, string>> = {
        mosquitto: { '/mosquitto/data': `${ctx.project}_mosquitto-data` },
        postgres: { '/var/lib/postgresql/data': `${ctx.project}_db-data` },
      };
      for (const service of SERVICES) {
        const container = await assertHardened(
          service,
          file.services[service],
          await serviceId(service),
          writable[service] ?? {},
        );
        // Only the proxy publishes a port, on loopback.
        const bindings = container.HostConfig.PortBindings ?? {};
        if (service === 'proxy')
          assert.deepEqual(bindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] });
        else assert.deepEqual(bindings, {}, `${service} publishes no port`);
      }
      for (const network of ['broker', 'db', 'front']) {
        const inspected = JSON.parse(await dockerOk(['network', 'inspect', `${ctx.project}_${network}`]))[0];
        assert.equal(inspected.Internal, true, `${network} is internal`);
      }
      const live = await eventually(
        async () => {
          const r = await raw(hostPort, 'GET', '/readyz');
          return r.status === 200 ? r : undefined;
        },
        30_000,
        '/readyz through the proxy',
      );
      assert.match(live.body, /ready/);
    });

    it('sessions stick to the replica that holds them; each replica has its own client id and records into PostgreSQL', async () => {
      const sessions = await sessionsOnBoth();
      try {
        for (const [replica, s] of sessions) {
          // Several requests in a row, each routed by the session id back to its replica.
          for (let i = 0; i < 5; i++) {
            const status = await tool(s, 'mqtt_status');
            assert.equal(status.connection.clientId, `mcp-bridge-${replica}`);
            assert.equal(status.connection.state, 'connected');
            assert.equal(status.history.state, 'recording');
            assert.equal(status.history.path, 'postgres://bridge@postgres:5432/history');
          }
        }
      } finally {
        for (const s of sessions.values()) await s.close();
      }
    });

    it('a flood is recorded exactly once across the replicas, both taking a share', async () => {
      const sessions = await sessionsOnBoth();
      try {
        const before = new Map<string, number>();
        for (const [replica, s] of sessions)
          before.set(replica, (await tool(s, 'mqtt_status')).history.written);
        const count = 6000;
        const flood = await startFlood(
          ctx.mosquittoImage,
          `${ctx.project}_broker`,
          bridgeIdentity(ctx.pki),
          'plant/flood/once',
          count,
          3000,
        );
        assert.equal(await flood.exitCode(120_000), 0, 'every message acknowledged by the broker');
        const got = await eventually(
          async () => {
            const r = await recorded('plant/flood/once');
            return r.distinct >= count ? r : undefined;
          },
          60_000,
          `${count} messages in the database`,
          500,
        );
        assert.deepEqual(got, { rows: count, distinct: count }, 'each message once');
        const shares: Record<string, number> = {};
        for (const [replica, s] of sessions)
          shares[replica] = (await tool(s, 'mqtt_status')).history.written - (before.get(replica) ?? 0);
        process.stderr.write(`scale: flood of ${count}: written by replica ${JSON.stringify(shares)}\n`);
        assert.equal((shares.a ?? 0) + (shares.b ?? 0), count, 'the shares add up to the flood');
        assert.ok((shares.a ?? 0) > 0 && (shares.b ?? 0) > 0, 'both replicas took a share');
      } finally {
        for (const s of sessions.values()) await s.close();
      }
    });

    it('a replica killed mid-flood and started again: nothing acknowledged is lost, and reads through either replica agree', async () => {
      const count = 20_000;
      const topic = 'plant/flood/kill';
      const flood = await startFlood(
        ctx.mosquittoImage,
        `${ctx.project}_broker`,
        bridgeIdentity(ctx.pki),
        topic,
        count,
        2000,
      );
      await eventually(async () => (await recorded(topic)).rows >= 3000, 60_000, 'the flood under way', 200);
      assert.ok(await flood.running(), 'the flood is still running when the replica is killed');
      const killedAt = Date.now();
      await dockerOk(['kill', '-s', 'KILL', await serviceId('bridge-b')]);
      assert.equal(await flood.exitCode(180_000), 0, 'every message acknowledged by the broker');
      // Back under the same client id, so it resumes its session (its in-flight and queued share).
      await composeOk(['start', 'bridge-b']);
      await healthy('bridge-b', 120_000);
      const got = await eventually(
        async () => {
          const r = await recorded(topic);
          return r.distinct >= count ? r : undefined;
        },
        120_000,
        `all ${count} messages in the database after the restart`,
        500,
      );
      assert.equal(got.distinct, count, 'nothing lost');
      const sessions = await sessionsOnBoth();
      try {
        const b = sessions.get('b');
        assert.ok(b !== undefined);
        const acks = (await tool(b, 'mqtt_status')).history.acknowledgements;
        process.stderr.write(
          `scale: kill mid-flood: ${got.rows} rows, ${got.distinct} distinct of ${count}; replica b after restart ${JSON.stringify(acks)}; killed ${Date.now() - killedAt} ms before this\n`,
        );
        // The broker resends what the killed replica had not acknowledged; the copies of what it had
        // committed are found in history by packet id and not written again.
        assert.equal(got.rows, count, 'no message recorded twice');
        // The same history answers through both replicas.
        const from = new Date(killedAt - 3_600_000).toISOString();
        const to = new Date().toISOString();
        const answers = [];
        for (const s of sessions.values()) {
          const summary = await tool(s, 'mqtt_summarize', { filter: topic, from, to, buckets: 4 });
          assert.equal(summary.source, 'history');
          const read = await tool(s, 'mqtt_read_messages', { filter: topic, from, to, limit: 20 });
          assert.equal(read.source, 'history');
          answers.push({
            count: summary.series[0]?.count,
            min: summary.series[0]?.min,
            max: summary.series[0]?.max,
            first: read.messages.map((m: { payload: string }) => m.payload),
          });
        }
        assert.deepEqual(answers[0], answers[1], 'both replicas answer the same');
        assert.equal(answers[0]?.count, got.rows);
        assert.equal(answers[0]?.min, 1);
        assert.equal(answers[0]?.max, count);
      } finally {
        for (const s of sessions.values()) await s.close();
      }
    });

    it('a replica that is gone ends only its own sessions: its clients get 404 and continue on the other', async () => {
      const sessions = await sessionsOnBoth();
      const a = sessions.get('a');
      const b = sessions.get('b');
      assert.ok(a !== undefined && b !== undefined);
      try {
        await composeOk(['stop', '-t', '10', 'bridge-b']);
        // b's session: the proxy sends it to a, which does not know it.
        const orphan = await raw(hostPort, 'POST', '/mcp', {
          headers: {
            host: `127.0.0.1:${hostPort}`,
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            authorization: `Bearer ${ctx.pki.token}`,
            'mcp-session-id': b.transport.sessionId ?? '',
            'mcp-protocol-version': '2025-11-25',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
        });
        assert.equal(orphan.status, 404, orphan.body);
        // a's session is untouched, and a new session lands on a.
        assert.equal((await tool(a, 'mqtt_status')).connection.clientId, 'mcp-bridge-a');
        await continuesOnA();
      } finally {
        await a.close();
        await b.client.close();
        await composeOk(['start', 'bridge-b']);
      }
    });

    it('a replica killed during a call: the proxy ends that call at once, a call on the other replica finishes undisturbed, and the client continues there', async () => {
      await healthy('bridge-b', 120_000);
      const sessions = await sessionsOnBoth();
      const a = sessions.get('a');
      const b = sessions.get('b');
      assert.ok(a !== undefined && b !== undefined);
      const errors: string[] = [];
      b.client.onerror = (error) => errors.push(error.message);
      try {
        const wait = { name: 'mqtt_wait_for_messages', arguments: { filter: 'plant/quiet/#' } };
        const onA = a.client.callTool({ ...wait, arguments: { ...wait.arguments, timeoutMs: 8000 } });
        // The SDK Client fails a request at its own timeout when the stream carrying it ends
        // without an answer (there is nothing to resume: the replica and its sessions are gone).
        const onB = b.client.callTool(
          { ...wait, arguments: { ...wait.arguments, timeoutMs: 60_000 } },
          undefined,
          {
            timeout: 15_000,
          },
        );
        onB.catch(() => undefined);
        await sleep(1000);
        const killedAt = Date.now();
        await dockerOk(['kill', '-s', 'KILL', await serviceId('bridge-b')]);
        const ended = await eventually(
          async () => errors.find((m) => /SSE stream disconnected/.test(m)),
          10_000,
          "the proxy to end the killed replica's response stream",
          50,
        );
        const endedMs = Date.now() - killedAt;
        const resultA = (await onA) as CallToolResult;
        assert.notEqual(resultA.isError, true, JSON.stringify(resultA.content));
        assert.equal((resultA.structuredContent as { timedOut: boolean }).timedOut, true);
        await assert.rejects(onB, /timed out/i);
        process.stderr.write(
          `scale: replica killed during a call: its stream ended ${endedMs} ms after the kill (${ended}); the call on the other replica ran its full 8 s\n`,
        );
        await continuesOnA();
      } finally {
        await a.close();
        await b.client.close();
        await composeOk(['start', 'bridge-b']);
      }
    });
  });
}
