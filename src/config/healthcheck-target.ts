/**
 * What the Docker HEALTHCHECK (src/healthcheck.ts) probes: the transport and the HTTP port, read
 * from the environment the entry point passes in (MCP_TRANSPORT, default stdio; MCP_HTTP_PORT,
 * default 3000; a port that is not one falls back to 3000).
 */
export interface HealthcheckTarget {
  readonly transport: string;
  readonly port: number;
}

export function healthcheckTarget(env: Readonly<Record<string, string | undefined>>): HealthcheckTarget {
  const port = Number(env.MCP_HTTP_PORT ?? '3000');
  return {
    transport: env.MCP_TRANSPORT ?? 'stdio',
    port: Number.isInteger(port) && port > 0 && port < 65_536 ? port : 3000,
  };
}
