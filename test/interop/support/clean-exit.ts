/**
 * The built server (dist/index.js) against an interop broker, in HTTP mode so that the test
 * holds its PID and exit code: an MCP client over Streamable HTTP waits for mqtt_status to say
 * connected, then SIGTERM.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { sleep } from '../../helpers/broker.js';
import { startHttpProcess } from '../../helpers/spawned.js';

export interface Exit {
  readonly code: number | null;
  readonly stderr: string;
  readonly clientId: string;
}

export async function exitCleanly(env: Record<string, string>, timeoutMs = 15_000): Promise<Exit> {
  const proc = await startHttpProcess(env);
  try {
    const transport = new StreamableHTTPClientTransport(new URL(`${proc.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${proc.token}` } },
    });
    const client = new Client({ name: 'interop', version: '1.0.0' });
    await client.connect(transport);
    const deadline = Date.now() + timeoutMs;
    let clientId = '';
    for (;;) {
      const result = await client.callTool({ name: 'mqtt_status', arguments: {} });
      const connection = (result.structuredContent as { connection: { state: string; clientId: string } })
        .connection;
      clientId = connection.clientId;
      if (connection.state === 'connected') break;
      if (Date.now() > deadline) throw new Error(`not connected: ${JSON.stringify(connection)}`);
      await sleep(100);
    }
    await transport.terminateSession().catch(() => undefined);
    await client.close();
    const code = await proc.stop('SIGTERM');
    return { code, stderr: proc.stderr(), clientId };
  } finally {
    await proc.stop('SIGKILL');
  }
}
