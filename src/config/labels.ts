/**
 * Configuration problems in the words of the form the user filled in. With MCP_SETTING_LABELS
 * (the MCP Bundle sets it), every labelled variable a problem names is shown as
 * `"Label" (VARIABLE)`, so the message points at the field as well as at the variable.
 */
export function labelProblems(
  problems: readonly string[],
  labels: ReadonlyArray<readonly [string, string]>,
): string[] {
  if (labels.length === 0) return [...problems];
  const byName = new Map(labels);
  // Variable names are [A-Z0-9_]; \b keeps MQTT_PASSWORD from matching inside MQTT_PASSWORD_FILE.
  const names = new RegExp(`\\b(${[...byName.keys()].join('|')})\\b`, 'g');
  return problems.map((problem) => problem.replace(names, (name) => `"${byName.get(name) ?? ''}" (${name})`));
}
