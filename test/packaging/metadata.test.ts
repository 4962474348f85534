/**
 * The descriptions of the package cannot drift from the package: server.json (MCP Registry,
 * schema 2025-12-11) and manifest.json (MCP Bundle) against package.json and the settings table
 * (src/config/settings.ts), one version everywhere, and `npm version`'s sync script.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SETTINGS } from '../../src/config/settings.js';
import { PKG, ROOT, readJson } from './support.js';

interface EnvVar {
  readonly name: string;
  readonly description?: string;
  readonly isRequired?: boolean;
  readonly isSecret?: boolean;
  readonly default?: string;
  readonly value?: string;
  readonly format?: string;
}
interface Argument {
  readonly type: string;
  readonly name?: string;
  readonly value?: string;
  readonly variables?: Record<string, { description?: string; isRequired?: boolean }>;
}
interface RegistryPackage {
  readonly registryType: string;
  readonly identifier: string;
  readonly version?: string;
  readonly registryBaseUrl?: string;
  readonly transport: { readonly type: string };
  readonly runtimeArguments?: readonly Argument[];
  readonly environmentVariables?: readonly EnvVar[];
}
interface ServerJson {
  readonly $schema: string;
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly version: string;
  readonly packages: readonly RegistryPackage[];
}
interface UserConfigField {
  readonly type: string;
  readonly title: string;
  readonly description: string;
  readonly required?: boolean;
  readonly sensitive?: boolean;
  readonly default?: string;
}
interface Manifest {
  readonly manifest_version: string;
  readonly name: string;
  readonly version: string;
  readonly compatibility: { readonly runtimes: { readonly node: string } };
  readonly server: {
    readonly entry_point: string;
    readonly mcp_config: { command: string; args: string[]; env: Record<string, string> };
  };
  readonly user_config: Record<string, UserConfigField>;
}

const SERVER = readJson<ServerJson>(join(ROOT, 'server.json'));
const MANIFEST = readJson<Manifest>(join(ROOT, 'manifest.json'));
const settings = SETTINGS as Record<
  string,
  { default: string | undefined; secret?: true; description: string }
>;
const required = Object.keys(settings).filter((name) => settings[name]!.description.startsWith('Required.'));

function dockerLabel(name: string): string | undefined {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return new RegExp(`${name.replace(/\./g, '\\.')}="([^"]*)"`).exec(text)?.[1];
}

describe('server.json (MCP Registry)', () => {
  it('follows the registry schema: name, description, version, schema URL', () => {
    assert.equal(
      SERVER.$schema,
      'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json',
    );
    assert.match(SERVER.name, /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/);
    assert.ok(
      SERVER.description.length >= 1 && SERVER.description.length <= 100,
      'description: 1-100 characters',
    );
    assert.ok(SERVER.title === undefined || SERVER.title.length <= 100);
    assert.doesNotMatch(SERVER.version, /^[~^<>=]|latest|\*|x$/, 'a specific version, not a range');
  });

  it('names the package: mcpName, version, npm identifier and the image tag', () => {
    assert.equal(SERVER.name, PKG.mcpName, 'package.json mcpName proves ownership of the npm package');
    assert.equal(SERVER.version, PKG.version);
    const npm = SERVER.packages.filter((p) => p.registryType === 'npm');
    const oci = SERVER.packages.filter((p) => p.registryType === 'oci');
    assert.equal(npm.length, 1);
    assert.equal(oci.length, 1);
    assert.equal(SERVER.packages.length, 2);
    assert.equal(npm[0]!.identifier, PKG.name);
    assert.equal(npm[0]!.version, PKG.version);
    assert.equal(npm[0]!.registryBaseUrl, 'https://registry.npmjs.org');
    assert.match(oci[0]!.identifier, new RegExp(`/${PKG.name}:${PKG.version.replace(/\./g, '\\.')}$`));
    for (const p of SERVER.packages) assert.equal(p.transport.type, 'stdio');
  });

  it('every variable exists in the settings table, with its secrecy; the required ones are marked', () => {
    for (const p of SERVER.packages) {
      const vars = p.environmentVariables ?? [];
      for (const v of vars) {
        const setting = settings[v.name];
        assert.ok(setting !== undefined, `${p.registryType}: ${v.name} is not a setting`);
        assert.equal(v.isSecret === true, setting.secret === true, `${p.registryType}: ${v.name} isSecret`);
        assert.ok((v.description ?? '').length > 0, `${p.registryType}: ${v.name} has no description`);
        if (v.default !== undefined) assert.equal(v.default, setting.default, `${v.name} default`);
        for (const key of Object.keys(v))
          assert.ok(
            ['name', 'description', 'isRequired', 'isSecret', 'default', 'value', 'format'].includes(key),
            `${v.name}: ${key}`,
          );
      }
      assert.equal(new Set(vars.map((v) => v.name)).size, vars.length, 'each variable once');
      for (const name of required) {
        const v = vars.find((x) => x.name === name);
        assert.equal(v?.isRequired, true, `${p.registryType}: required ${name} is not marked required`);
      }
    }
  });

  it('the image: mounts for every certificate file it names, hardening flags, variables defined', () => {
    const oci = SERVER.packages.find((p) => p.registryType === 'oci')!;
    const args = oci.runtimeArguments ?? [];
    const mountTargets = args
      .filter((a) => a.name === '--mount')
      .map((a) => /dst=([^,]+)/.exec(a.value ?? '')?.[1]);
    for (const v of oci.environmentVariables ?? []) {
      if (v.name.endsWith('_FILE') && v.value !== undefined)
        assert.ok(mountTargets.includes(v.value), `${v.name}=${v.value} is not mounted`);
    }
    for (const flag of ['--init', '--read-only', '--cap-drop', '--security-opt', '--tmpfs'])
      assert.ok(
        args.some((a) => a.name === flag),
        `${flag} missing`,
      );
    for (const a of args) {
      assert.equal(a.type, 'named');
      for (const [, variable] of (a.value ?? '').matchAll(/\{([a-z_]+)\}/g))
        assert.ok(a.variables?.[variable!] !== undefined, `${a.name}: {${variable}} is not defined`);
    }
  });

  it('the image carries the registry ownership label with the server name', () => {
    assert.equal(dockerLabel('io.modelcontextprotocol.server.name'), SERVER.name);
  });
});

describe('manifest.json (MCP Bundle)', () => {
  const env = MANIFEST.server.mcp_config.env;
  const fields = MANIFEST.user_config;
  const fieldOf = (value: string) => /^\$\{user_config\.([a-z_]+)\}$/.exec(value)?.[1];

  it('mcpb validate accepts it', () => {
    const out = execFileSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/@anthropic-ai/mcpb/dist/cli/cli.js'),
        'validate',
        join(ROOT, 'manifest.json'),
      ],
      { encoding: 'utf8' },
    );
    assert.match(out, /validation passes/i);
  });

  it('is the package: name, version, entry point, the Node of engines', () => {
    assert.equal(MANIFEST.manifest_version, '0.3');
    assert.equal(MANIFEST.name, PKG.name);
    assert.equal(MANIFEST.version, PKG.version);
    assert.equal(MANIFEST.server.entry_point, PKG.bin[PKG.name]);
    assert.deepEqual(MANIFEST.server.mcp_config.args, [`\${__dirname}/${PKG.bin[PKG.name]!}`]);
    assert.equal(MANIFEST.compatibility.runtimes.node, `${PKG.engines.node}.0.0`);
  });

  it('maps every form field onto one setting; files onto *_FILE, sensitive fields onto secrets', () => {
    const used = new Set<string>();
    for (const [variable, value] of Object.entries(env)) {
      const setting = settings[variable];
      assert.ok(setting !== undefined, `${variable} is not a setting`);
      const field = fieldOf(value);
      if (field === undefined) continue;
      const spec = fields[field];
      assert.ok(spec !== undefined, `${variable} uses the unknown field ${field}`);
      assert.ok(!used.has(field), `${field} is used twice`);
      used.add(field);
      assert.equal(
        spec.sensitive === true,
        setting.secret === true,
        `${field}: sensitive = ${variable} secret`,
      );
      assert.equal(spec.type === 'file', variable.endsWith('_FILE'), `${field}: file field = *_FILE setting`);
    }
    assert.deepEqual([...used].sort(), Object.keys(fields).sort(), 'every field reaches the bridge');
    for (const name of ['broker_url', 'ca_file', 'cert_file', 'key_file', 'key_passphrase', 'password'])
      assert.ok(fields[name] !== undefined, `${name} field`);
    for (const name of ['MCP_READ_TOPICS', 'MCP_WRITE_TOPICS', 'MCP_DENY_TOPICS'])
      assert.ok(fieldOf(env[name] ?? '') !== undefined, `${name} from the form`);
  });

  it('optional fields default to the setting default or empty (a host passes an unset field literally)', () => {
    for (const [variable, value] of Object.entries(env)) {
      const field = fieldOf(value);
      if (field === undefined) continue;
      const spec = fields[field]!;
      if (required.includes(variable)) {
        assert.equal(spec.required, true, `${field} is required`);
        assert.equal(spec.default, undefined);
      } else {
        assert.notEqual(spec.required, true, `${field} is optional`);
        assert.equal(spec.default, settings[variable]!.default ?? '', `${field} default`);
      }
    }
  });

  it('tells the bridge the field names, so configuration errors can name them', () => {
    const labels = Object.entries(env)
      .filter(([, value]) => fieldOf(value) !== undefined)
      .map(([variable, value]) => `${variable}=${fields[fieldOf(value)!]!.title}`);
    assert.deepEqual(env.MCP_SETTING_LABELS?.split(';'), labels);
    assert.equal(env.NODE_ENV, 'production', 'no .env from the working directory, no insecure TLS');
  });
});

describe('one version', () => {
  it('package.json, manifest.json, server.json, the image label and CHANGELOG.md agree', () => {
    assert.match(PKG.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    assert.equal(MANIFEST.version, PKG.version);
    assert.equal(SERVER.version, PKG.version);
    assert.equal(dockerLabel('org.opencontainers.image.version'), PKG.version);
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    assert.match(changelog, new RegExp(`^## \\[${PKG.version.replace(/\./g, '\\.')}\\]`, 'm'));
  });

  it('the built server reports it with --version (on stderr: stdout is for JSON-RPC only)', () => {
    const result = spawnSync(process.execPath, [join(ROOT, 'dist/index.js'), '--version'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    assert.equal(result.status, 0);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trim(), PKG.version);
  });

  it('`npm version` carries a new version everywhere (scripts/sync-version.ts)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-mcp-version-'));
    try {
      for (const file of ['package.json', 'manifest.json', 'server.json', 'Dockerfile', 'CHANGELOG.md'])
        cpSync(join(ROOT, file), join(dir, file));
      const pkg = readJson<Record<string, unknown>>(join(dir, 'package.json'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7' }, null, 2));
      execFileSync(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'scripts/sync-version.ts'), '--root', dir],
        {
          cwd: ROOT,
          stdio: 'ignore',
        },
      );
      const manifest = readJson<Manifest>(join(dir, 'manifest.json'));
      const server = readJson<ServerJson>(join(dir, 'server.json'));
      assert.equal(manifest.version, '9.8.7');
      assert.equal(server.version, '9.8.7');
      assert.equal(server.packages.find((p) => p.registryType === 'npm')?.version, '9.8.7');
      assert.match(server.packages.find((p) => p.registryType === 'oci')!.identifier, /:9\.8\.7$/);
      assert.match(
        readFileSync(join(dir, 'Dockerfile'), 'utf8'),
        /org\.opencontainers\.image\.version="9\.8\.7"/,
      );
      assert.match(readFileSync(join(dir, 'CHANGELOG.md'), 'utf8'), /^## \[9\.8\.7\] - unreleased$/m);
      assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8').includes(PKG.version), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
