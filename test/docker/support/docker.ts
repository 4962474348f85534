/**
 * The Docker engine, the stand-in images and the project image for the Docker suite, and the
 * bookkeeping that removes everything a run created: every container, network and image this
 * suite makes carries the label RUN_LABEL=RUN_ID, and compose projects are removed by name.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const RUN_LABEL = 'org.mqtt-mcp-bridge.test';
/** Unique per run: names, labels and the compose project derive from it. */
export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
export const RUN_LABEL_ARG = `${RUN_LABEL}=${RUN_ID}`;

/** The classic builder: no buildx here, and the Dockerfile needs none. */
const DOCKER_ENV = { ...process.env, DOCKER_BUILDKIT: '0' };

export interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a program without a shell; never throws for a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolvePromise) => {
    execFile(
      command,
      args,
      {
        env: options.env ?? DOCKER_ENV,
        cwd: options.cwd ?? ROOT,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code =
          error === null ? 0 : typeof error.code === 'number' ? error.code : error.killed === true ? 124 : 1;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

export function docker(args: readonly string[], timeoutMs?: number): Promise<Result> {
  return run('docker', args, timeoutMs === undefined ? {} : { timeoutMs });
}

/** docker ..., failing with its output when it exits non-zero; returns trimmed stdout. */
export async function dockerOk(args: readonly string[], timeoutMs?: number): Promise<string> {
  const result = await docker(args, timeoutMs);
  if (result.code !== 0)
    throw new Error(`docker ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result.stdout.trim();
}

export async function inspect(id: string): Promise<any> {
  return (JSON.parse(await dockerOk(['inspect', id])) as any[])[0];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll an async check until it returns something truthy. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false | '' | 0>,
  timeoutMs: number,
  what: string,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error instanceof Error ? error : new Error(JSON.stringify(error));
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`,
      );
    await sleep(intervalMs);
  }
}

/** Start the engine when needed (scripts/docker-setup.sh), then build the stand-in images. */
export function prepareEngineAndStandins(): {
  nodeImage: string;
  mosquittoImage: string;
  postgresImage: string;
  haproxyImage: string;
  timescaledbImage: string;
  /** Mosquitto from Debian trixie, newer than mosquittoImage's (bookworm). */
  mosquittoTrixieImage: string;
} {
  for (const script of ['scripts/docker-setup.sh', 'scripts/docker-images.sh']) {
    const result = spawnSync('sh', [script], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`${script} failed with exit code ${result.status}`);
  }
  const tags = Object.fromEntries(
    execFileSync('sh', ['scripts/docker-images.sh', '--print-tags'], { cwd: ROOT, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
  return {
    nodeImage: tags.NODE_IMAGE!,
    mosquittoImage: tags.MOSQUITTO_IMAGE!,
    postgresImage: tags.POSTGRES_IMAGE!,
    haproxyImage: tags.HAPROXY_IMAGE!,
    timescaledbImage: tags.TIMESCALEDB_IMAGE!,
    mosquittoTrixieImage: tags.MOSQUITTO_TRIXIE_IMAGE!,
  };
}

/**
 * Build the project image from the repository's Dockerfile, labelled for removal. The last
 * image of the build stage (the step before the second FROM in the classic builder's output)
 * is tagged too, so that removing both tags at the end removes every layer this run made.
 */
export async function buildBridgeImage(tag: string, nodeImage: string): Promise<string[]> {
  const args = ['build', '--label', RUN_LABEL_ARG, '--build-arg', `NODE_IMAGE=${nodeImage}`, '-t', tag, '.'];
  const result = await run('docker', args, { timeoutMs: 480_000 });
  const output = result.stdout + result.stderr;
  if (result.code !== 0) throw new Error(`docker build -t ${tag} failed:\n${output.slice(-4000)}`);
  let froms = 0;
  let buildStageTip: string | undefined;
  for (const line of result.stdout.split('\n')) {
    if (/^Step \d+\/\d+ : FROM /i.test(line)) froms++;
    const id = /^ ---> ([0-9a-f]{12,64})$/.exec(line)?.[1];
    if (id !== undefined && froms === 1) buildStageTip = id;
  }
  if (buildStageTip === undefined) throw new Error(`no build stage found in the build output:\n${output}`);
  const [name, version] = tag.split(':') as [string, string];
  const buildTag = `${name}-build:${version}`;
  await dockerOk(['tag', buildStageTip, buildTag]);
  return [tag, buildTag];
}

/** A test PKI made by certs/generate.sh, keys owned by the containers' uids. */
export interface DockerPki {
  readonly dir: string;
  /** A client certificate and key from another CA. */
  readonly foreignDir: string;
  readonly token: string;
  readonly tokenFile: string;
}

export function createDockerPki(): DockerPki {
  const base = mkdtempSync(join(tmpdir(), 'mqtt-mcp-docker-'));
  const dir = join(base, 'pki');
  const foreignDir = join(base, 'foreign');
  const generate = (out: string) =>
    spawnSync('sh', ['certs/generate.sh', '--out', out, '--days', '2', '--container-owners'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  const tokenFile = join(dir, 'mcp_token');
  for (const out of [dir, foreignDir]) {
    const result = generate(out);
    // Status 3: not root, the keys cannot be given to uid 1883/10001. These are throw-away
    // test keys in a private temp dir, so make them readable instead.
    if (result.status === 3) for (const f of readdirSync(out)) chmodSync(join(out, f), 0o644);
    else if (result.status !== 0) throw new Error(`certs/generate.sh failed: ${result.stderr}`);
  }
  // The foreign client key is read by a client container running as uid 10001.
  spawnSync('chown', ['10001:10001', join(foreignDir, 'client.key')]);
  const token = spawnSync('sh', ['scripts/docker-token.sh', tokenFile], { cwd: ROOT, encoding: 'utf8' });
  if (token.status === 3) chmodSync(tokenFile, 0o644);
  else if (token.status !== 0) throw new Error(`scripts/docker-token.sh failed: ${token.stderr}`);
  return {
    dir,
    foreignDir,
    tokenFile,
    token: readFileSync(tokenFile, 'utf8').trim(),
  };
}

export function removePki(pki: DockerPki | undefined): void {
  if (pki !== undefined) rmSync(resolve(pki.dir, '..'), { recursive: true, force: true });
}

/** Remove every container (with its anonymous volumes), network, volume and image of this run. */
export async function removeLabelled(options: { containersOnly?: boolean } = {}): Promise<string[]> {
  const removed: string[] = [];
  const filter = ['--filter', `label=${RUN_LABEL_ARG}`];
  const containers = (await docker(['ps', '-aq', ...filter])).stdout.split('\n').filter(Boolean);
  if (containers.length > 0) {
    await docker(['rm', '-f', '-v', ...containers]);
    removed.push(...containers.map((c) => `container ${c}`));
  }
  if (options.containersOnly === true) return removed;
  const networks = (await docker(['network', 'ls', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (networks.length > 0) {
    await docker(['network', 'rm', ...networks]);
    removed.push(...networks.map((n) => `network ${n}`));
  }
  const volumes = (await docker(['volume', 'ls', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (volumes.length > 0) {
    await docker(['volume', 'rm', '-f', ...volumes]);
    removed.push(...volumes.map((v) => `volume ${v}`));
  }
  const images = (await docker(['images', '-q', ...filter])).stdout.split('\n').filter(Boolean);
  if (images.length > 0) {
    await docker(['rmi', '-f', ...new Set(images)]);
    removed.push(...images.map((i) => `image ${i}`));
  }
  return removed;
}

/** What docker still holds for a filter (containers, networks, volumes), for the final check. */
export async function leftovers(filter: string): Promise<string[]> {
  const lines = async (args: string[]) =>
    (await docker([...args, '--filter', filter])).stdout.split('\n').filter(Boolean);
  return [
    ...(await lines(['ps', '-aq'])).map((c) => `container ${c}`),
    ...(await lines(['network', 'ls', '-q'])).map((n) => `network ${n}`),
    ...(await lines(['volume', 'ls', '-q'])).map((v) => `volume ${v}`),
  ];
}

/** Parse a YAML file with the PyYAML that docker-compose v1 itself depends on. */
export function loadYaml(path: string): any {
  if (!existsSync(path)) throw new Error(`${path} does not exist`);
  const script = 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)';
  const result = spawnSync('python3', ['-c', script, path], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(
      `cannot parse ${path} with python3-yaml (installed with docker-compose by scripts/docker-setup.sh): ${result.stderr ?? result.error}`,
    );
  return JSON.parse(result.stdout);
}

/** Bytes of a Docker/compose memory size such as 256m or 1g. */
export function memoryBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg]?)b?$/i.exec(value.trim());
  if (match === null) throw new Error(`not a memory size: ${value}`);
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase()] ?? 1;
  return Math.round(Number(match[1]) * unit);
}
