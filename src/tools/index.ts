/**
 * The tool list. Publishing tools are offered only when the policy allows writes at all, the
 * Sparkplug B tools only when Sparkplug is on (MQTT_SPARKPLUG=auto).
 */
import type { AnyToolSpec } from './define.js';
import { chartTool } from './chart.js';
import { exportTool } from './export.js';
import { findSilentTool } from './find-silent.js';
import { getLatestTool } from './get-latest.js';
import { listTopicsTool } from './list-topics.js';
import { publishTool } from './publish.js';
import { readMessagesTool } from './read-messages.js';
import { sparkplugNodesTool, sparkplugRebirthTool } from './sparkplug.js';
import { statusTool } from './status.js';
import { subscribeTool, unsubscribeTool } from './subscribe.js';
import { summarizeTool } from './summarize.js';
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
  summarizeTool,
  findSilentTool,
  chartTool,
  exportTool,
  sparkplugNodesTool,
  sparkplugRebirthTool,
];

const WRITES: ReadonlySet<AnyToolSpec> = new Set([publishTool, sparkplugRebirthTool]);
const SPARKPLUG: ReadonlySet<AnyToolSpec> = new Set([sparkplugNodesTool, sparkplugRebirthTool]);

export function toolsFor(options: { readOnly: boolean; sparkplug: boolean }): AnyToolSpec[] {
  return ALL_TOOLS.filter(
    (tool) => !(options.readOnly && WRITES.has(tool)) && !(!options.sparkplug && SPARKPLUG.has(tool)),
  );
}
