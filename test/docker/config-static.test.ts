/**
 * Static checks of what we ship for Docker, no engine needed (security.md T-4.4, T-5.1): the
 * broker config and ACL, the Dockerfile, .dockerignore and docker-compose.yml are parsed and
 * the required settings asserted present, the forbidden ones absent.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONTAINER_HEAP_MIB } from '../soak/support.js';
import { ROOT, loadYaml, memoryBytes } from './support/docker.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/* ---------------------------------- mosquitto.conf and acl ---------------------------------- */

/** Directive name -> every value it was given, in order. */
function parseMosquittoConf(text: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [key, ...rest] = line.split(/\s+/);
    directives.set(key!, [...(directives.get(key!) ?? []), rest.join(' ')]);
  }
  return directives;
}

/** user -> [access, topic] rules; rules before any `user` line go under ''. */
function parseAcl(text: string): Map<string, Array<[string, string]>> {
  const users = new Map<string, Array<[string, string]>>();
  let user = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [kind, ...rest] = line.split(/\s+/);
    if (kind === 'user') {
      user = rest.join(' ');
      users.set(user, users.get(user) ?? []);
    } else if (kind === 'topic') {
      const [access, topic] =
        rest.length === 1 ? ['readwrite', rest[0]!] : [rest[0]!, rest.slice(1).join(' ')];
      users.set(user, [...(users.get(user) ?? []), [access, topic]]);
    } else {
      users.set(`${kind} ${user}`, [[kind!, rest.join(' ')]]);
    }
  }
  return users;
}

describe('mosquitto/mosquitto.conf (R-4.1, T-4.4)', () => {
  const conf = parseMosquittoConf(read('mosquitto/mosquitto.conf'));
  const one = (key: string) => {
    const values = conf.get(key);
    assert.ok(values !== undefined, `${key} is missing`);
    assert.equal(values.length, 1, `${key} is set ${values.length} times`);
    return values[0]!;
  };

  it('has exactly one listener, on 8883, with TLS and required client certificates', () => {
    assert.deepEqual(conf.get('listener'), ['8883']);
    assert.equal(conf.get('port'), undefined, 'no legacy default listener');
    assert.equal(one('protocol'), 'mqtt');
    assert.equal(one('require_certificate'), 'true');
    assert.equal(one('use_identity_as_username'), 'true');
    assert.match(one('tls_version'), /^tlsv1\.[23]$/);
    for (const key of ['cafile', 'certfile', 'keyfile']) assert.match(one(key), /^\/mosquitto\/certs\//);
  });

  it('refuses anonymous clients and applies the ACL file', () => {
    assert.equal(one('allow_anonymous'), 'false');
    assert.equal(one('acl_file'), '/mosquitto/config/acl');
  });

  it('bounds packets and per-client queues, sets TCP_NODELAY, keeps no state on disk', () => {
    assert.ok(Number(one('max_packet_size')) > 0);
    assert.ok(Number(one('max_packet_size')) <= 1024 * 1024);
    assert.ok(Number(one('max_queued_messages')) > 0);
    assert.ok(Number(one('max_queued_bytes')) > 0);
    assert.equal(one('set_tcp_nodelay'), 'true');
    assert.equal(one('persistence'), 'false');
  });

  it('has none of the settings that weaken authentication or flood logs', () => {
    for (const forbidden of [
      'disable_client_cert_date_checks',
      'password_file',
      'psk_file',
      'psk_hint',
      'allow_zero_length_clientid',
      'per_listener_settings',
      'use_username_as_clientid',
    ])
      assert.equal(conf.get(forbidden), undefined, `${forbidden} must not be set`);
    for (const type of conf.get('log_type') ?? []) assert.doesNotMatch(type, /^(all|debug)$/);
    assert.notEqual(conf.get('allow_anonymous')?.[0], 'true');
  });
});

describe('mosquitto/acl', () => {
  const acl = parseAcl(read('mosquitto/acl'));

  it('grants the bridge only plant/# and the uptime, and the healthcheck only the uptime', () => {
    assert.deepEqual(acl.get('mcp-bridge'), [
      ['readwrite', 'plant/#'],
      ['read', '$SYS/broker/uptime'],
    ]);
    assert.deepEqual(acl.get('broker-healthcheck'), [['read', '$SYS/broker/uptime']]);
    assert.deepEqual([...acl.keys()].sort(), ['broker-healthcheck', 'mcp-bridge']);
  });

  it('has no rule for everyone, no pattern rules and no # grant', () => {
    assert.equal(acl.get(''), undefined, 'topic rules before any user apply to everyone');
    for (const [user, rules] of acl) {
      assert.ok(!user.startsWith('pattern'), `pattern rule: ${user}`);
      for (const [, topic] of rules) assert.notEqual(topic, '#', `${user} may access #`);
    }
  });

  it('names the identities that certs/generate.sh issues (the certificate CN is the user name)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-static-'));
    try {
      execFileSync('sh', [join(ROOT, 'certs/generate.sh'), '--out', dir, '--days', '1'], { stdio: 'ignore' });
      const cn = (file: string) =>
        /CN\s*=\s*([^,/\n]+)/.exec(
          execFileSync('openssl', ['x509', '-in', join(dir, file), '-noout', '-subject'], {
            encoding: 'utf8',
          }),
        )?.[1];
      assert.equal(cn('client.crt'), 'mcp-bridge');
      assert.equal(cn('healthcheck.crt'), 'broker-healthcheck');
      const modes = execFileSync('sh', ['-c', `stat -c '%n %a' ${dir}/*.key`], { encoding: 'utf8' });
      for (const line of modes.trim().split('\n')) assert.match(line, / 600$/, line);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/* ------------------------------------------ Dockerfile ------------------------------------------ */

interface Instruction {
  readonly name: string;
  readonly args: string;
}

/** Instructions in order, continuation lines joined, comments dropped (classic builder rules). */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trimEnd();
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const [name, ...rest] = full.split(/\s+/);
    instructions.push({ name: name!.toUpperCase(), args: rest.join(' ') });
  }
  return instructions;
}

describe('Dockerfile (T-5.1)', () => {
  const text = read('Dockerfile');
  const instructions = parseDockerfile(text);
  const stages: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.name === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  const runtime = stages.at(-1)!;
  const args = (stage: Instruction[], name: string) =>
    stage.filter((i) => i.name === name).map((i) => i.args);

  it('uses only classic builder syntax', () => {
    assert.doesNotMatch(text, /^#\s*syntax\s*=/m, 'no BuildKit frontend directive');
    assert.doesNotMatch(text, /<<-?\s*['"]?[A-Z]+/, 'no heredocs');
    for (const i of instructions)
      assert.doesNotMatch(i.args, /--mount=|--chmod=|--link\b/, `${i.name} ${i.args}`);
  });

  it('takes its base from NODE_IMAGE, pinned by an exact version tag of the engines major and a digest', () => {
    const arg = instructions.find((i) => i.name === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    assert.ok(
      arg !== undefined && instructions.indexOf(arg) === 0,
      'ARG NODE_IMAGE comes before the first FROM',
    );
    const pin = /^NODE_IMAGE=node:(\d+)\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}$/.exec(arg.args);
    assert.ok(pin !== null, arg.args);
    // The major package.json requires (engines ">=24"), and the stand-in image is built from it.
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    assert.equal(engines, `>=${pin[1]}`);
    assert.equal(pin[1], '24');
    const standin = execFileSync('sh', [join(ROOT, 'scripts/docker-images.sh'), '--print-tags'], {
      encoding: 'utf8',
    });
    assert.match(standin, new RegExp(`^NODE_IMAGE=\\S+/node:${pin[1]}-bookworm-slim$`, 'm'));
    const froms = instructions.filter((i) => i.name === 'FROM').map((i) => i.args);
    assert.deepEqual(froms, ['${NODE_IMAGE} AS build', '${NODE_IMAGE}']);
    // The same default in docker-compose.yml's build args.
    const compose = read('docker-compose.yml');
    assert.ok(compose.includes(`NODE_IMAGE: \${${arg.args.replace('=', ':-')}}`), 'compose default differs');
  });

  it('builds in the first stage and installs production dependencies only in the runtime stage', () => {
    const build = stages[0]!;
    assert.ok(args(build, 'RUN').some((a) => /\bnpm ci\b/.test(a) && !/--omit=dev/.test(a)));
    assert.ok(args(build, 'RUN').some((a) => /\bnpm run build\b/.test(a)));
    const runs = args(runtime, 'RUN').join(' && ');
    assert.match(runs, /\bnpm ci --omit=dev\b/);
    assert.match(runs, /\bnpm cache clean --force\b/);
    assert.doesNotMatch(runs, /npm (install|i)\b|npm run build|\btsc\b|apt-get install/);
    const copies = args(runtime, 'COPY');
    assert.deepEqual(copies, ['package.json package-lock.json ./', '--from=build /src/dist ./dist']);
  });

  it('runs as the fixed non-root user 10001, created in the image', () => {
    const users = args(runtime, 'USER');
    assert.equal(users.at(-1), '10001:10001');
    assert.doesNotMatch(users.at(-1)!, /^(0|root)\b/);
    const runs = args(runtime, 'RUN').join(' ');
    assert.match(runs, /groupadd [^&]*--gid 10001/);
    assert.match(runs, /useradd [^&]*--uid 10001 [^&]*--gid 10001/);
    assert.match(runs, /useradd [^&]*--shell \/usr\/sbin\/nologin/);
  });

  it('sets NODE_ENV, an exec-form ENTRYPOINT and the HEALTHCHECK', () => {
    assert.ok(args(runtime, 'ENV').includes('NODE_ENV=production'));
    // The heap cap the soak tests run the server with (test/soak/support.ts).
    assert.ok(
      args(runtime, 'ENV').includes(`NODE_OPTIONS=--max-old-space-size=${CONTAINER_HEAP_MIB}`),
      args(runtime, 'ENV').join(' '),
    );
    assert.deepEqual(args(runtime, 'ENTRYPOINT'), ['["node", "dist/index.js"]']);
    assert.deepEqual(JSON.parse(args(runtime, 'ENTRYPOINT')[0]!), ['node', 'dist/index.js']);
    const health = args(runtime, 'HEALTHCHECK');
    assert.equal(health.length, 1);
    assert.match(health[0]!, /CMD \["node", "dist\/healthcheck\.js"\]$/);
    assert.equal(args(runtime, 'CMD').length, 0, 'arguments go after the image name, not in CMD');
  });

  it('records history on the /data volume: HISTORY_PATH set, /data owned by 10001 with mode 0700, VOLUME after it', () => {
    assert.ok(args(runtime, 'ENV').includes('HISTORY_PATH=/data/history.db'));
    const runs = args(runtime, 'RUN');
    const made = runs.findIndex(
      (a) => /\bmkdir -m 0700 \/data\b/.test(a) && /\bchown 10001:10001 \/data\b/.test(a),
    );
    assert.ok(made >= 0, 'a RUN creates /data with mode 0700 for 10001');
    assert.deepEqual(args(runtime, 'VOLUME'), ['["/data"]']);
    // Changes to a path after its VOLUME line are discarded by the builder.
    const volumeAt = runtime.findIndex((i) => i.name === 'VOLUME');
    const runAt = runtime.indexOf(runtime.filter((i) => i.name === 'RUN')[made]!);
    assert.ok(runAt < volumeAt, 'VOLUME comes after /data is made');
  });

  it('adds no files by ADD and copies no keys, certificates, env files or tests', () => {
    assert.equal(instructions.filter((i) => i.name === 'ADD').length, 0);
    for (const copy of instructions.filter((i) => i.name === 'COPY'))
      assert.doesNotMatch(copy.args, /\.env|\.key|\.pem|\.crt|certs|test|\.git|^\.\s/, copy.args);
  });
});

describe('.dockerignore', () => {
  const lines = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('is an allowlist: everything is excluded, then only the build inputs are let in', () => {
    assert.equal(lines[0], '*');
    assert.deepEqual(
      lines.filter((l) => l.startsWith('!')),
      ['!package.json', '!package-lock.json', '!tsconfig.json', '!src/'],
    );
  });

  it('excludes secrets, tests, dependencies, git, bench and build output even under allowed paths', () => {
    for (const pattern of [
      '**/.env',
      '**/.env.*',
      '**/*.key',
      '**/*.pem',
      '**/*.crt',
      '**/*.test.ts',
      '**/node_modules',
      '.git',
      'test',
      'bench',
      'certs',
      'dist',
      'coverage',
      'docs',
    ])
      assert.ok(lines.includes(pattern), `${pattern} is missing`);
  });
});

/* --------------------------------------- docker-compose.yml --------------------------------------- */

describe('docker-compose.yml (T-5.1)', () => {
  const file = loadYaml(join(ROOT, 'docker-compose.yml'));
  const services = file.services as Record<string, any>;

  it('has the broker and the bridge, and nothing else', () => {
    assert.deepEqual(Object.keys(services).sort(), ['bridge', 'mosquitto']);
  });

  for (const name of ['mosquitto', 'bridge']) {
    it(`${name}: non-root, read-only, no capabilities, no new privileges, limits, healthcheck, restart cap`, () => {
      const s = services[name];
      assert.match(s.user, /^[1-9]\d*:[1-9]\d*$/);
      assert.equal(s.read_only, true);
      assert.deepEqual(s.cap_drop, ['ALL']);
      assert.equal(s.cap_add, undefined);
      assert.deepEqual(s.security_opt, ['no-new-privileges:true']);
      assert.ok(memoryBytes(s.mem_limit) > 0 && memoryBytes(s.mem_limit) <= 512 * 1024 * 1024);
      assert.equal(s.memswap_limit, s.mem_limit, 'no swap beyond the memory limit');
      assert.ok(Number(s.cpus) > 0 && Number(s.cpus) <= 1);
      assert.ok(Number.isInteger(s.pids_limit) && s.pids_limit > 0 && s.pids_limit <= 256);
      assert.ok(s.ulimits.nofile.soft > 0 && s.ulimits.nofile.hard >= s.ulimits.nofile.soft);
      assert.equal(s.init, true);
      assert.match(s.restart, /^on-failure:[1-9]$/);
      assert.ok(Array.isArray(s.healthcheck.test) && s.healthcheck.test[0] === 'CMD');
      for (const key of ['interval', 'timeout', 'retries']) assert.ok(s.healthcheck[key] !== undefined, key);
      assert.equal(s.privileged, undefined);
      assert.equal(s.network_mode, undefined);
      assert.equal(s.pid, undefined);
      assert.equal(s.ipc, undefined);
      for (const volume of s.volumes as string[]) {
        // The one writable mount: the bridge's named history volume (checked below).
        if (name === 'bridge' && volume === 'history:/data') continue;
        assert.match(volume, /:ro$/, `${volume} must be read-only`);
        assert.doesNotMatch(volume, /docker\.sock/);
      }
    });
  }

  it('mosquitto: pinned image, shipped config and ACL, internal network only, no published port', () => {
    const s = services.mosquitto;
    assert.match(s.image, /^\$\{MOSQUITTO_IMAGE:-eclipse-mosquitto:2\.\d+\.\d+@sha256:[0-9a-f]{64}\}$/);
    assert.equal(s.user, '1883:1883');
    assert.ok(s.volumes.includes('./mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro'));
    assert.ok(s.volumes.includes('./mosquitto/acl:/mosquitto/config/acl:ro'));
    assert.deepEqual(s.networks, ['broker']);
    assert.equal(s.ports, undefined);
    assert.equal(s.expose, undefined);
    assert.ok(s.healthcheck.test.includes('/mosquitto/certs/healthcheck.crt'));
    assert.ok(s.healthcheck.test.includes('$$SYS/broker/uptime'));
  });

  it('bridge: the history volume, a named one at /data (the image sets HISTORY_PATH there)', () => {
    const s = services.bridge;
    assert.ok((s.volumes as string[]).includes('history:/data'));
    assert.ok(file.volumes !== undefined && 'history' in (file.volumes as Record<string, unknown>));
    assert.equal((s.environment as Record<string, string>).HISTORY_PATH, undefined, 'the image default');
  });

  it('bridge: Streamable HTTP with a token secret, mTLS files read-only, loopback port, two networks', () => {
    const s = services.bridge;
    assert.equal(s.image, '${BRIDGE_IMAGE:-mqtt-mcp-bridge:local}');
    assert.equal(s.build.context, '.');
    assert.equal(s.user, '10001:10001');
    assert.deepEqual(s.tmpfs, ['/tmp:rw,noexec,nosuid,nodev,size=16m']);
    const env = s.environment as Record<string, string>;
    assert.equal(env.MCP_TRANSPORT, 'http');
    assert.equal(env.MCP_HTTP_HOST, '0.0.0.0');
    assert.equal(env.MCP_HTTP_PORT, '3000');
    assert.equal(env.MCP_AUTH, 'token');
    assert.equal(env.MCP_AUTH_TOKEN_FILE, '/run/secrets/mcp_token');
    assert.equal(env.MCP_ALLOWED_HOSTS, 'localhost,127.0.0.1');
    assert.equal(env.MQTT_URL, 'mqtts://mosquitto:8883');
    for (const key of ['MQTT_CA_FILE', 'MQTT_CERT_FILE', 'MQTT_KEY_FILE'])
      assert.match(env[key]!, /^\/certs\//);
    assert.ok(env.MCP_READ_TOPICS !== undefined && env.MCP_WRITE_TOPICS !== undefined);
    assert.equal(env.MQTT_TLS_INSECURE, undefined);
    for (const value of Object.values(env)) assert.doesNotMatch(String(value), /PRIVATE KEY|Bearer /);
    assert.deepEqual(s.secrets, ['mcp_token']);
    assert.equal(file.secrets.mcp_token.file, '${MCP_TOKEN_FILE:-./certs/out/mcp_token}');
    assert.equal(s.ports.length, 1);
    for (const port of s.ports as string[])
      assert.match(port, /^127\.0\.0\.1:/, `${port} is not loopback-only`);
    assert.deepEqual(s.networks, ['broker', 'edge']);
    assert.equal(s.depends_on.mosquitto.condition, 'service_healthy');
    assert.deepEqual(s.healthcheck.test, ['CMD', 'node', 'dist/healthcheck.js']);
  });

  it('keeps the broker network internal', () => {
    assert.equal(file.networks.broker.internal, true);
    assert.notEqual(file.networks.edge?.internal, true);
  });

  it('is accepted by docker-compose itself (config -q)', (t) => {
    if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status !== 0) {
      t.skip('docker-compose is not installed (sh scripts/docker-setup.sh installs it)');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-compose-'));
    try {
      writeFileSync(join(dir, 'mcp_token'), 'x'.repeat(64));
      const result = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, CERTS_DIR: dir, MCP_TOKEN_FILE: join(dir, 'mcp_token') },
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr.trim(), '', 'docker-compose config printed warnings');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('git ignores the generated keys, certificates and token', () => {
    for (const path of ['certs/out/client.key', 'certs/out/mcp_token', 'certs/out/ca.crt', '.env']) {
      const ignored = spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT });
      assert.equal(ignored.status, 0, `${path} is not git-ignored`);
    }
  });
});

/* ------------------------------------------- README.md ------------------------------------------- */

describe('README.md: the Claude Desktop docker run line (R-5.1)', () => {
  const doc = read('README.md');
  // The README has npx blocks too: this is the one that runs docker.
  const server = [...doc.matchAll(/```json\n(\{\n {2}"mcpServers"[\s\S]*?)\n```/g)]
    .map((match) => JSON.parse(match[1]!).mcpServers.mqtt)
    .find((entry) => entry?.command === 'docker');
  const args: string[] = server?.args ?? [];
  const value = (flag: string) => args[args.indexOf(flag) + 1];

  it('is valid JSON that runs docker', () => {
    assert.ok(server !== undefined, 'no claude_desktop_config.json block');
    assert.equal(server.command, 'docker');
    assert.equal(args[0], 'run');
    assert.equal(args.at(-1), 'mqtt-mcp-bridge:local');
  });

  it('carries every hardening flag of the table in security.md section 5', () => {
    for (const flag of ['-i', '--rm', '--init', '--read-only']) assert.ok(args.includes(flag), flag);
    assert.equal(value('--user'), '10001:10001');
    assert.match(value('--tmpfs')!, /^\/tmp:.*noexec.*size=\d+m$/);
    assert.equal(value('--cap-drop'), 'ALL');
    assert.equal(value('--security-opt'), 'no-new-privileges:true');
    assert.equal(value('--memory'), value('--memory-swap'));
    assert.ok(Number(value('--cpus')) > 0);
    assert.ok(Number(value('--pids-limit')) > 0);
    assert.match(value('--ulimit')!, /^nofile=\d+:\d+$/);
    assert.ok(Number(value('--stop-timeout')) > 0);
    assert.match(value('--label')!, /^\S+=\S+$/);
  });

  it('has no -t, no fixed --name, no privileges, and mounts everything read-only but the history volume', () => {
    for (const flag of ['-t', '-it', '--tty', '--name', '--privileged', '--network=host', '-p', '--publish'])
      assert.ok(!args.includes(flag), `${flag} must not be used`);
    args.forEach((arg, i) => {
      // The named volume the image records history to (HISTORY_PATH=/data/history.db).
      if (arg === '-v' && args[i + 1] === 'mqtt-history:/data') return;
      if (arg === '-v') assert.match(args[i + 1]!, /:ro$/);
      if (arg === '-e') assert.doesNotMatch(args[i + 1]!, /PRIVATE KEY|PASSWORD=|TOKEN=/);
    });
  });

  it('keeps history on a named volume at /data', () => {
    assert.equal(args[args.indexOf('mqtt-history:/data') - 1], '-v');
    assert.ok(args.indexOf('mqtt-history:/data') < args.indexOf('mqtt-mcp-bridge:local'));
  });

  it('matches the line the Docker suite runs (test/docker/docker.test.ts)', () => {
    const suite = read('test/docker/docker.test.ts');
    for (const flag of ['--init', '--read-only', '--stop-timeout'])
      assert.ok(suite.includes(`'${flag}'`), flag);
    for (const flag of ['--tmpfs', '--memory', '--memory-swap', '--cpus', '--pids-limit', '--ulimit'])
      assert.ok(
        suite.includes(`'${flag}',\n    '${value(flag)}'`),
        `${flag} ${value(flag)} differs from the suite`,
      );
  });
});
