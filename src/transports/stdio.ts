/**
 * stdio wiring. SDK 1.32's StdioServerTransport does not notice stdin closing, so the end of
 * stdin is reported here and triggers the shutdown.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Logger } from '../logging/logger.js';

export async function serveStdio(
  server: McpServer,
  options: { logger: Logger; onStdinClosed: () => void },
): Promise<{ close: () => Promise<void> }> {
  const transport = new StdioServerTransport();
  transport.onerror = (error) => options.logger.warn({ err: error }, 'stdio transport error');
  process.stdin.once('end', options.onStdinClosed);
  process.stdin.once('close', options.onStdinClosed);
  await server.connect(transport);
  return { close: () => server.close() };
}
