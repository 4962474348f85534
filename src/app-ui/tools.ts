/**
 * The only tools the view may call through the host: read-only ones. The view asks for fresh
 * data with the tool that opened it (the chart tool) and never for anything that writes.
 */
export const READ_ONLY_TOOLS: ReadonlySet<string> = new Set([
  'mqtt_chart',
  'mqtt_summarize',
  'mqtt_find_silent',
]);

/** The tool the view refreshes with: its structuredContent is what the view shows. */
export const REFRESH_TOOL = 'mqtt_chart';

export function assertReadOnly(name: string): void {
  if (!READ_ONLY_TOOLS.has(name)) throw new Error('the view calls only read-only tools');
}

/** Arguments for a refresh: the opening call's, without the picture size, with an optional range. */
export function refreshArguments(
  args: Readonly<Record<string, unknown>>,
  range?: { from: number; to: number },
): Record<string, unknown> {
  const drop = new Set(range === undefined ? ['width', 'height'] : ['width', 'height', 'sinceSeconds']);
  const out = Object.fromEntries(Object.entries(args).filter(([k]) => !drop.has(k)));
  if (range === undefined) return out;
  return { ...out, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
}
