/**
 * The bridge's MCP prompts, registered on the McpServer (prompts/list, prompts/get): routines
 * that turn the tools into what an operator runs. Their text names only the tools this server
 * offers. The prompts never change while a session runs, so listChanged is false.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { DIAGNOSE, diagnoseArgs, diagnoseText } from './diagnose.js';
import { SHIFT_REPORT, shiftReportArgs, shiftReportText } from './shift-report.js';

export const PROMPT_NAMES = [DIAGNOSE.name, SHIFT_REPORT.name] as const;

export function installPrompts(server: McpServer, tools: ReadonlySet<string>): void {
  server.registerPrompt(
    DIAGNOSE.name,
    { title: DIAGNOSE.title, description: DIAGNOSE.description, argsSchema: diagnoseArgs },
    (args) => ({
      description: DIAGNOSE.description,
      messages: [{ role: 'user', content: { type: 'text', text: diagnoseText(args, tools) } }],
    }),
  );
  server.registerPrompt(
    SHIFT_REPORT.name,
    { title: SHIFT_REPORT.title, description: SHIFT_REPORT.description, argsSchema: shiftReportArgs },
    (args) => ({
      description: SHIFT_REPORT.description,
      messages: [{ role: 'user', content: { type: 'text', text: shiftReportText(args, tools) } }],
    }),
  );
  server.server.registerCapabilities({ prompts: { listChanged: false } });
}
