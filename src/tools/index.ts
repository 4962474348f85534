/**
 * The tool list. mqtt_publish is offered only when the policy allows writes at all.
 */
import type { AnyToolSpec } from './define.js';
import { getLatestTool } from './get-latest.js';
import { listTopicsTool } from './list-topics.js';
import { publishTool } from './publish.js';
import { readMessagesTool } from './read-messages.js';
import { statusTool } from './status.js';
import { subscribeTool, unsubscribeTool } from './subscribe.js';
import { waitForMessagesTool } from './wait-for-messages.js';

export const ALL_TOOLS: readonly AnyToolSpec[] = [
  publishTool,
  readMessagesTool,
  getLatestTool,
  waitForMessagesTool,
  listTopicsTool,
  subscribeTool,
  unsubscribeTool,
  statusTool,
];

export function toolsFor(options: { readOnly: boolean }): AnyToolSpec[] {
  return ALL_TOOLS.filter((tool) => !(options.readOnly && tool.name === publishTool.name));
}
