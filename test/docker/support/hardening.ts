/**
 * The hardening a compose file declares for a service, checked on its running container with
 * docker inspect: limits, read-only root, no capabilities, no new privileges, init, restart
 * policy, ulimits, a non-root user that the process really runs as, and no writable mount other
 * than the ones the caller names.
 */
import assert from 'node:assert/strict';
import { dockerOk, inspect, memoryBytes } from './docker.js';

interface Mount {
  readonly Type: string;
  readonly RW: boolean;
  readonly Destination: string;
  readonly Name?: string;
}

export async function assertHardened(
  service: string,
  declared: any,
  containerId: string,
  /** Writable mounts allowed: destination -> the named volume expected there. */
  writable: Readonly<Record<string, string>> = {},
): Promise<any> {
  const container = await inspect(containerId);
  const host = container.HostConfig;
  assert.equal(host.Memory, memoryBytes(declared.mem_limit), `${service} memory`);
  assert.equal(host.MemorySwap, memoryBytes(declared.memswap_limit), `${service} memory+swap`);
  assert.equal(host.NanoCpus, Math.round(Number(declared.cpus) * 1e9), `${service} cpus`);
  assert.equal(host.PidsLimit, declared.pids_limit, `${service} pids`);
  assert.equal(host.ReadonlyRootfs, declared.read_only, `${service} read_only`);
  assert.equal(host.ReadonlyRootfs, true, `${service} read_only`);
  assert.deepEqual(host.CapDrop, declared.cap_drop);
  assert.deepEqual(host.CapDrop, ['ALL'], `${service} cap_drop`);
  assert.deepEqual(host.SecurityOpt, declared.security_opt);
  assert.ok(host.SecurityOpt.includes('no-new-privileges:true'), `${service} no-new-privileges`);
  assert.equal(host.Init, declared.init, `${service} init`);
  assert.equal(host.Privileged, false);
  assert.deepEqual(host.RestartPolicy, {
    Name: 'on-failure',
    MaximumRetryCount: Number(String(declared.restart).split(':')[1]),
  });
  assert.deepEqual(host.Ulimits, [
    { Name: 'nofile', Soft: declared.ulimits.nofile.soft, Hard: declared.ulimits.nofile.hard },
  ]);
  assert.equal(container.Config.User, declared.user, `${service} user`);
  assert.notEqual(declared.user.split(':')[0], '0', `${service} runs as root`);
  for (const mount of container.Mounts as Mount[]) {
    const volume = writable[mount.Destination];
    if (volume !== undefined) {
      assert.equal(mount.Type, 'volume', `${service}: ${mount.Destination}`);
      assert.equal(mount.Name, volume, `${service}: ${mount.Destination}`);
      continue;
    }
    assert.equal(mount.RW, false, `${service}: ${mount.Destination} is mounted writable`);
  }
  // The process really runs as that uid.
  const uid = await dockerOk(['exec', container.Id, 'id', '-u']);
  assert.equal(uid, declared.user.split(':')[0], `${service} uid`);
  return container;
}
