/**
 * The tools' MCP handlers, installed on the SDK's low-level Server (McpServer's own tool
 * registration is not used):
 * - tools/list answers with a list built once per tool (compact JSON Schemas, see
 *   json-schema.ts), not converted from zod on every request;
 * - tools/call validates the arguments with the tool's zod schema here, so that a refusal is an
 *   INVALID_INPUT result in the bridge's own words (counted in the metrics like every other
 *   refusal, and never echoing what the caller sent), then runs the tool through runTool().
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { BridgeError } from '../errors.js';
import { runTool, type AnyToolSpec } from './define.js';
import type { ToolDeps } from './deps.js';
import { compactJsonSchema } from './json-schema.js';

const listings = new WeakMap<AnyToolSpec, Tool>();

/** What tools/list says about one tool; computed once per tool definition. */
export function toolListing(spec: AnyToolSpec): Tool {
  let tool = listings.get(spec);
  if (tool === undefined) {
    tool = {
      name: spec.name,
      title: spec.title,
      description: spec.description,
      inputSchema: compactJsonSchema(spec.input, 'input') as Tool['inputSchema'],
      outputSchema: compactJsonSchema(spec.output, 'output') as Tool['outputSchema'],
      annotations: { ...spec.annotations },
      ...(spec.meta !== undefined ? { _meta: spec.meta } : {}),
    };
    listings.set(spec, tool);
  }
  return tool;
}

export function installTools(server: McpServer, specs: readonly AnyToolSpec[], deps: ToolDeps): void {
  if (deps.brokers.size > 1) specs = withBrokerArgument(specs, [...deps.brokers.keys()]);
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const tools = specs.map(toolListing);
  const canElicit = () => server.server.getClientCapabilities()?.elicitation !== undefined;
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const spec = byName.get(request.params.name);
    if (spec === undefined) {
      // The name is not echoed (it is the caller's input); the list of tools is.
      throw new McpError(
        ErrorCode.InvalidParams,
        `Tool not found; the tools are ${[...byName.keys()].join(', ')} (tools/list)`,
      );
    }
    const parsed = spec.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      const error = new BridgeError('INVALID_INPUT', describeIssues(parsed.error, spec));
      return runTool(spec, deps, undefined, extra, canElicit, error);
    }
    // With several brokers, `broker` (checked against the configured names above) picks the view.
    const { broker, ...args } = parsed.data as { broker?: string };
    const view = broker === undefined ? deps : deps.brokers.get(broker);
    if (view === undefined) throw new McpError(ErrorCode.InternalError, 'broker not configured');
    return runTool(spec, view, args, extra, canElicit);
  });
}

/** The tool definitions with a `broker` argument, made once per set of broker names. */
const extended = new Map<string, Map<AnyToolSpec, AnyToolSpec>>();

/**
 * Several brokers: every tool takes `broker`, one of the configured names (default the first), and
 * tools with a view over every broker (mqtt_status) list their `outputWithBrokers` schema. With one
 * broker nothing is added, so its tools/list costs what it did.
 */
export function withBrokerArgument(specs: readonly AnyToolSpec[], names: readonly string[]): AnyToolSpec[] {
  const key = names.join(',');
  let cache = extended.get(key);
  if (cache === undefined) {
    cache = new Map();
    extended.set(key, cache);
  }
  const broker = z
    .enum(names as [string, ...string[]])
    .optional()
    .describe(`Broker to use (default ${names[0] ?? ''})`);
  return specs.map((spec) => {
    let out = cache.get(spec);
    if (out === undefined) {
      out = { ...spec, input: spec.input.extend({ broker }), output: spec.outputWithBrokers ?? spec.output };
      cache.set(spec, out);
    }
    return out;
  });
}

/**
 * zod's issues in the bridge's words: the path of each bad argument and what it must be. Zod's
 * messages name the expected shape, never the value; unknown argument names are not repeated
 * either (they are the caller's text), the accepted names are listed instead.
 */
export function describeIssues(error: z.ZodError, spec: AnyToolSpec): string {
  const accepted = Object.keys(spec.input.shape);
  const parts = new Set<string>();
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      parts.add(
        `unknown argument; ${spec.name} takes ${accepted.length > 0 ? accepted.join(', ') : 'no arguments'}`,
      );
      continue;
    }
    // Only the argument's own name: deeper path parts may be keys the caller chose.
    const name = issue.path[0];
    const where = typeof name === 'string' && accepted.includes(name) ? `${name}: ` : '';
    parts.add(`${where}${issue.message}`);
  }
  return `invalid arguments: ${[...parts].slice(0, 5).join('; ')}`;
}
