/**
 * The single tool boundary. Every tool is declared with defineTool(); dispatch.ts lists it and
 * validates its arguments, and runTool():
 * - returns structuredContent plus its JSON text mirror (framed as untrusted data when the
 *   result carries broker data);
 * - turns a BridgeError into an isError result with an actionable, scrubbed message, and any
 *   other failure into a generic message with a call id (the details go to the log only).
 */
import { randomUUID } from 'node:crypto';
import {
  ElicitResultSchema,
  type CallToolResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { z } from 'zod';
import { BridgeError, isBridgeError } from '../errors.js';
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
  /** Who calls: the authenticated principal over HTTP, "stdio" over stdio. */
  readonly principal: string;
  /**
   * Ask the user to confirm through MCP elicitation: true when confirmed, false when declined,
   * 'unsupported' when the client cannot be asked.
   */
  confirm(message: string): Promise<boolean | 'unsupported'>;
  /** The authenticated caller over HTTP (principal and OAuth scopes); undefined over stdio. */
  readonly auth: { readonly principal: string; readonly scopes: readonly string[] } | undefined;
  /** Send a progress notification when the client asked for progress; otherwise a no-op. */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
}

export interface ToolSpec<I extends z.ZodObject, O extends z.ZodObject> {
  readonly name: string;
  /** `_meta` of the tools/list entry (e.g. an MCP App's ui resource). */
  readonly meta?: Record<string, unknown>;
  readonly title: string;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  /** With several brokers: the output schema listed instead (a view over every broker). */
  readonly outputWithBrokers?: z.ZodObject;
  readonly annotations: ToolAnnotations;
  /** The result carries data from the broker: frame its text mirror as untrusted. */
  readonly brokerData: boolean;
  /** How to get the rest when a result says `more: true` (added to the text, after the data). */
  readonly moreHint?: string;
  readonly handler: (args: z.output<I>, context: ToolContext) => Promise<z.output<O>>;
}

// Type-erased form for lists of tools.
export type AnyToolSpec = ToolSpec<z.ZodObject, z.ZodObject>;

export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(spec: ToolSpec<I, O>): AnyToolSpec {
  return spec;
}

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Content items a handler adds to its result besides the JSON (a picture, an embedded file). */
const ATTACHMENTS = Symbol('attachments');

/**
 * A structured result with content items beside it: the items go into `content` after the JSON
 * mirror and never into `structuredContent` (a symbol key is not serialised).
 */
export function withAttachments<T extends object>(structured: T, items: CallToolResult['content']): T {
  return Object.defineProperty(structured, ATTACHMENTS, { value: items, enumerable: false });
}

function attachmentsOf(structured: unknown): CallToolResult['content'] {
  const items = (structured as { [ATTACHMENTS]?: CallToolResult['content'] })[ATTACHMENTS];
  return items ?? [];
}

const confirmSchema = () => ({
  type: 'object' as const,
  properties: {
    confirm: { type: 'boolean' as const, title: 'Send this message', description: 'Check to publish it' },
  },
  required: ['confirm'],
});

/**
 * One tool call through the boundary: call limits, deadline, result framing, errors. `args` are
 * the validated arguments; `refusal` is the validation error when they were not valid (the call
 * still counts against the limits and is logged and measured like any other refusal).
 */
export async function runTool(
  spec: AnyToolSpec,
  deps: ToolDeps,
  args: Record<string, unknown> | undefined,
  extra: Extra,
  canElicit: () => boolean = () => false,
  refusal?: BridgeError,
): Promise<CallToolResult> {
  const callId = randomUUID().slice(0, 8);
  const started = performance.now();
  const principal = extra.authInfo?.clientId ?? 'stdio';
  const fields = { tool: spec.name, callId, principal };
  const progressToken = extra._meta?.progressToken;
  let deadline: AbortController | undefined;
  let signal: AbortSignal | undefined;
  let release: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const context: ToolContext = {
    deps,
    // Made on first use: only waiting tools need it, and AbortSignal.any is not free.
    get signal() {
      deadline ??= new AbortController();
      signal ??= AbortSignal.any([extra.signal, deadline.signal]);
      return signal;
    },
    callId,
    principal,
    auth: extra.authInfo === undefined ? undefined : { principal, scopes: extra.authInfo.scopes },
    progress: async (progress, total, message) => {
      if (progressToken === undefined) return;
      await extra
        .sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress, ...(total !== undefined ? { total } : {}), message },
        })
        .catch(() => undefined);
    },
    confirm: async (message) => {
      if (!canElicit()) return 'unsupported';
      const result = await extra.sendRequest(
        { method: 'elicitation/create', params: { message, requestedSchema: confirmSchema() } },
        ElicitResultSchema,
      );
      return result.action === 'accept' && result.content?.confirm === true;
    },
  };
  try {
    release = deps.callLimits.admit(principal, spec.name, Date.now());
    if (refusal !== undefined || args === undefined)
      throw refusal ?? new BridgeError('INVALID_INPUT', 'no arguments');
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        deadline?.abort();
        reject(
          new BridgeError(
            'TIMEOUT',
            `the call took longer than ${deps.limits.toolTimeoutMs} ms (MCP_TOOL_TIMEOUT_MS)`,
          ),
        );
      }, deps.limits.toolTimeoutMs);
    });
    const structured = await Promise.race([spec.handler(args, context), timeout]);
    const json = JSON.stringify(structured);
    const ms = elapsed(started);
    deps.logger.debug({ ...fields, ms, bytes: json.length }, 'tool call ok');
    deps.telemetry?.toolCall(spec.name, ms, undefined);
    const content: CallToolResult['content'] = [
      { type: 'text', text: spec.brokerData ? frameData(json).text : json },
    ];
    if (spec.moreHint !== undefined && (structured as { more?: unknown }).more === true)
      content.push({ type: 'text', text: `The result was cut (more: true): ${spec.moreHint}.` });
    content.push(...attachmentsOf(structured));
    return { content, structuredContent: { ...structured } };
  } catch (error) {
    const ms = elapsed(started);
    deps.telemetry?.toolCall(spec.name, ms, isBridgeError(error) ? error.code : 'INTERNAL');
    if (isBridgeError(error)) {
      deps.logger.info({ ...fields, ms, code: error.code }, 'tool call refused');
      const retry =
        error.retryAfterSeconds !== undefined ? ` (retry after ${error.retryAfterSeconds} s)` : '';
      return errorResult(deps, `${error.code}: ${error.message}${retry}`);
    }
    deps.logger.error({ ...fields, ms, err: error }, 'tool call failed');
    return errorResult(
      deps,
      `INTERNAL: the tool failed unexpectedly (call id ${callId}); the bridge log has the details`,
    );
  } finally {
    clearTimeout(timer);
    release?.();
  }
}

function errorResult(deps: ToolDeps, text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: deps.scrubber.scrub(text) }] };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
