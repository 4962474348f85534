/**
 * docker-compose for one project and file, with the environment the suite passes (no host
 * variables leak in beyond PATH, HOME and DOCKER_HOST): run, run-or-fail, a service's container
 * id, and waiting for a service to be healthy.
 */
import assert from 'node:assert/strict';
import { dockerOk, eventually, run } from './docker.js';

/** What every compose call gets besides the file's own variables. */
export function composeBaseEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    DOCKER_BUILDKIT: '0',
    ...(process.env.DOCKER_HOST !== undefined ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  };
}

export function composeProject(file: string, project: () => string, env: () => NodeJS.ProcessEnv) {
  const compose = (args: readonly string[], timeoutMs = 180_000) =>
    run('docker-compose', ['-p', project(), '-f', file, ...args], { env: env(), timeoutMs });
  const composeOk = async (args: readonly string[], timeoutMs?: number): Promise<string> => {
    const result = await compose(args, timeoutMs);
    if (result.code !== 0)
      throw new Error(`docker-compose ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result.stdout.trim();
  };
  const serviceId = async (service: string): Promise<string> => {
    const id = await composeOk(['ps', '-q', service]);
    assert.ok(id !== '', `no container for ${service}`);
    return id;
  };
  const healthy = async (service: string, timeoutMs: number): Promise<void> => {
    const id = await serviceId(service);
    await eventually(
      async () => (await dockerOk(['inspect', '-f', '{{.State.Health.Status}}', id])) === 'healthy',
      timeoutMs,
      `${service} to be healthy`,
      500,
    );
  };
  return { compose, composeOk, serviceId, healthy };
}
