/**
 * Prompt `diagnose_topic`: the routine for "what is wrong with this device or topic": the
 * bridge's own state first, then the latest values, silence, the history summary and a chart.
 */
import { z } from 'zod';
import { FilterInput } from '../tools/schemas.js';
import { numbered, quoted, UNTRUSTED, type Step } from './steps.js';

export const HoursArg = z
  .string()
  .regex(/^\d{1,4}$/, 'a whole number of hours, 1 to 9999')
  .refine((h) => Number(h) >= 1, 'at least 1 hour');

export const diagnoseArgs = {
  target: FilterInput.describe(
    'The device or topic: a topic, or a filter for a device\'s topics, e.g. "plant/line2/oven/#"',
  ),
  hours: HoursArg.optional().describe('How far back to look, in hours (default 24), e.g. "12"'),
};

export const DIAGNOSE = {
  name: 'diagnose_topic',
  title: 'Diagnose a device or topic',
  description:
    'A routine to find out what a device or topic is doing: the bridge connection, latest values and their age, ' +
    'silence, a summary of its history and a chart, then a verdict with the evidence.',
};

export function diagnoseText(
  args: { target: string; hours?: string | undefined },
  tools: ReadonlySet<string>,
): string {
  const target = quoted(args.target);
  const hours = Number(args.hours ?? '24');
  const since = hours * 3600;
  const steps: Step[] = [
    {
      tool: 'mqtt_status',
      text: "mqtt_status: is the bridge connected to the broker, and since when? If it is not, say so first: then a gap in the data is the bridge's, not the device's.",
    },
    {
      tool: 'mqtt_get_latest',
      text: `mqtt_get_latest with filter ${target}: the last value of each topic, its age (ageSeconds) and whether it is a retained value replayed by the broker (retain), which may be old.`,
    },
    {
      tool: 'mqtt_find_silent',
      text: `mqtt_find_silent with filter ${target}: topics that stopped reporting, since when and their usual interval; and bridgeOffline, the periods when the bridge itself was offline.`,
    },
    {
      tool: 'mqtt_summarize',
      text: `mqtt_summarize with filter ${target} and sinceSeconds ${since}: min, max and mean of each numeric field, per bucket; look for steps, drifts, spikes, flat lines and gaps.`,
      otherwise: {
        tool: 'mqtt_read_messages',
        text: `mqtt_read_messages with filter ${target} and sinceSeconds ${since}: the recent messages, to see how the values moved.`,
      },
    },
    {
      tool: 'mqtt_chart',
      text: `mqtt_chart with the same filter and range: show the curve of the fields that matter.`,
    },
  ];
  return [
    `Diagnose the MQTT device or topic ${target} over the last ${hours} hour${hours === 1 ? '' : 's'}, with the bridge's read-only tools:`,
    numbered(steps, tools),
    'Then answer in a few lines: is it healthy, silent or misbehaving; since when; the evidence (times in ISO 8601, values with their topic and field); and what to check next. Do not publish anything.',
    UNTRUSTED,
  ].join('\n\n');
}
