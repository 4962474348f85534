/**
 * Prompt `shift_report`: the routine for a shift hand-over over a subtree: what ran, what went
 * quiet, what moved, and when the bridge itself was offline.
 */
import { FilterInput } from '../tools/schemas.js';
import { HoursArg } from './diagnose.js';
import { numbered, quoted, UNTRUSTED, type Step } from './steps.js';

export const shiftReportArgs = {
  filter: FilterInput.describe('The subtree to report on, e.g. "plant/line2/#"'),
  hours: HoursArg.optional().describe('Length of the shift, in hours (default 8), e.g. "12"'),
};

export const SHIFT_REPORT = {
  name: 'shift_report',
  title: 'Shift report for a subtree',
  description:
    'A routine for a shift hand-over: the topics under a filter that reported, went silent or changed over the ' +
    "last hours, the bridge's own outages, and charts of what moved, written up as a short report.",
};

export function shiftReportText(
  args: { filter: string; hours?: string | undefined },
  tools: ReadonlySet<string>,
): string {
  const filter = quoted(args.filter);
  const hours = Number(args.hours ?? '8');
  const since = hours * 3600;
  const steps: Step[] = [
    { tool: 'mqtt_status', text: "mqtt_status: the bridge's connection and what it collects." },
    {
      tool: 'mqtt_list_topics',
      text: `mqtt_list_topics with filter ${filter}: the topics seen, with their message counts and last activity.`,
    },
    {
      tool: 'mqtt_find_silent',
      text: `mqtt_find_silent with filter ${filter}: the topics that went silent during the shift, and bridgeOffline, the bridge's own outages.`,
    },
    {
      tool: 'mqtt_summarize',
      text: `mqtt_summarize with filter ${filter} and sinceSeconds ${since}: per topic and field, min, max and mean; note the ones that left their usual range or stepped.`,
      otherwise: {
        tool: 'mqtt_get_latest',
        text: `mqtt_get_latest with filter ${filter}: the last value of each topic and its age.`,
      },
    },
    {
      tool: 'mqtt_chart',
      text: `mqtt_chart with filter and sinceSeconds ${since} for the two or three series that changed most.`,
    },
  ];
  return [
    `Write a shift report for ${filter} covering the last ${hours} hour${hours === 1 ? '' : 's'}, with the bridge's read-only tools:`,
    numbered(steps, tools),
    'Report under these headings: Summary (three lines); Incidents (time in ISO 8601, topic, what happened); Silent devices; Notable trends; Bridge connectivity. Say what the report could not see (topics the bridge does not read, gaps in its data). Do not publish anything.',
    UNTRUSTED,
  ].join('\n\n');
}
