/**
 * Replicas (MQTT_REPLICA_ID, MQTT_SESSION_EXPIRY_SECONDS, MQTT_SHARE_GROUP): a stable client id
 * and a persistent MQTT 5 session, so a restarted replica resumes what the broker held for it, and
 * a shared-subscription group that spreads the collection over the replicas. They apply to every
 * configured broker.
 */
import type { Env } from './schema.js';

/** Session Expiry Interval with MQTT_REPLICA_ID and no MQTT_SESSION_EXPIRY_SECONDS: long enough for a restart or a rolling upgrade. */
export const REPLICA_SESSION_EXPIRY_SECONDS = 300;

export interface ReplicaConfig {
  /** The client id is `{prefix}-{replicaId}` exactly; undefined: a random suffix. */
  readonly replicaId: string | undefined;
  /** MQTT 5 Session Expiry Interval; above 0 the session is resumed (clean start off). */
  readonly sessionExpirySeconds: number;
  /** The collection subscribes with `$share/{group}/{filter}`. */
  readonly shareGroup: string | undefined;
}

export function replicaConfig(
  env: Env,
  versions: ReadonlyArray<{ readonly name: string; readonly protocolVersion: 4 | 5 | 'auto' }>,
  problems: string[],
): ReplicaConfig {
  const replicaId = env.MQTT_REPLICA_ID;
  const shareGroup = env.MQTT_SHARE_GROUP;
  const sessionExpirySeconds =
    env.MQTT_SESSION_EXPIRY_SECONDS ?? (replicaId !== undefined ? REPLICA_SESSION_EXPIRY_SECONDS : 0);
  if (sessionExpirySeconds > 0 && replicaId === undefined) {
    problems.push(
      'MQTT_SESSION_EXPIRY_SECONDS: a session kept after a disconnect needs MQTT_REPLICA_ID (with a random client id it could never be resumed)',
    );
  }
  const needs5 = [
    ...(replicaId !== undefined ? ['MQTT_REPLICA_ID'] : []),
    ...(shareGroup !== undefined ? ['MQTT_SHARE_GROUP'] : []),
  ];
  for (const variable of needs5) {
    for (const broker of versions) {
      if (broker.protocolVersion === 5) continue;
      problems.push(
        `${variable}: needs MQTT 5 (session expiry, shared subscriptions and subscription identifiers); broker ${broker.name} uses protocol version ${String(broker.protocolVersion)}; set MQTT_PROTOCOL_VERSION=5`,
      );
    }
  }
  return { replicaId, sessionExpirySeconds, shareGroup };
}
