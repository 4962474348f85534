/**
 * The single tool boundary. Every tool is declared with defineTool() and registered through
 * registerTool(), which:
 * - gives the SDK a strict input schema and the output schema;
 * - returns structuredContent plus its JSON text mirror (framed as untrusted data when the
 *   result carries broker data);
 * - turns a BridgeError into an isError result with an actionable, scrubbed message, and any
 *   other failure into a generic message with a call id (the details go to the log only).
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { z } from 'zod';
import { isBridgeError } from '../errors.js';
import { frameData } from '../output/frame.js';
import type { ToolDeps } from './deps.js';

export interface ToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

export interface ToolContext {
  readonly deps: ToolDeps;
  readonly signal: AbortSignal;
  readonly callId: string;
  /** The authenticated caller over HTTP (principal and OAuth scopes); undefined over stdio. */
  readonly auth: { readonly principal: string; readonly scopes: readonly string[] } | undefined;
  /** Send a progress notification when the client asked for progress; otherwise a no-op. */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
}

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  readonly annotations: ToolAnnotations;
  /** The result carries data from the broker: frame its text mirror as untrusted. */
  readonly brokerData: boolean;
  readonly handler: (args: z.output<I>, context: ToolContext) => Promise<z.output<O>>;
}

// Type-erased form for lists of tools.
export type AnyToolSpec = ToolSpec<z.ZodObject, z.ZodObject>;

export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>): AnyToolSpec {
  return spec;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export function registerTool(server: McpServer, spec: AnyToolSpec, deps: ToolDeps): void {
  server.registerTool(
    spec.name,
    {
      title: spec.title,
      description: spec.description,
      inputSchema: spec.input,
      outputSchema: spec.output,
      annotations: { title: spec.title, ...spec.annotations },
    },
    (args: Record<string, unknown>, extra: Extra) => runTool(spec, deps, args, extra),
  );
}

export async function runTool(
  spec: AnyToolSpec,
  deps: ToolDeps,
  args: Record<string, unknown>,
  extra: Extra,
): Promise<CallToolResult> {
  const callId = randomUUID().slice(0, 8);
  const started = performance.now();
  const log = deps.logger.child({
    tool: spec.name,
    callId,
    ...(extra.authInfo ? { principal: extra.authInfo.clientId } : {}),
  });
  const progressToken = extra._meta?.progressToken;
  const context: ToolContext = {
    deps,
    signal: extra.signal,
    callId,
    auth:
      extra.authInfo === undefined
        ? undefined
        : { principal: extra.authInfo.clientId, scopes: extra.authInfo.scopes },
    progress: async (progress, total, message) => {
      if (progressToken === undefined) return;
      await extra
        .sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress, ...(total !== undefined ? { total } : {}), message },
        })
        .catch(() => undefined);
    },
  };
  try {
    const structured = await spec.handler(args, context);
    const json = JSON.stringify(structured);
    const ms = elapsed(started);
    log.debug({ ms, bytes: json.length }, 'tool call ok');
    deps.telemetry?.toolCall(spec.name, ms, undefined);
    return {
      content: [{ type: 'text', text: spec.brokerData ? frameData(json).text : json }],
      structuredContent: structured,
    };
  } catch (error) {
    const ms = elapsed(started);
    deps.telemetry?.toolCall(spec.name, ms, isBridgeError(error) ? error.code : 'INTERNAL');
    if (isBridgeError(error)) {
      log.info({ ms, code: error.code }, 'tool call refused');
      const retry =
        error.retryAfterSeconds !== undefined ? ` (retry after ${error.retryAfterSeconds} s)` : '';
      return errorResult(deps, `${error.code}: ${error.message}${retry}`);
    }
    log.error({ ms, err: error }, 'tool call failed');
    return errorResult(
      deps,
      `INTERNAL: the tool failed unexpectedly (call id ${callId}); the bridge log has the details`,
    );
  }
}

function errorResult(deps: ToolDeps, text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: deps.scrubber.scrub(text) }] };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
