/**
 * What the demo prints once it is up: how to attach Claude Desktop (its own bridge over stdio),
 * the MCP Inspector CLI (over HTTP and over stdio), and what to ask the agent.
 */

export interface NotesInput {
  readonly node: string;
  readonly server: string;
  /** Settings shared by every demo bridge (broker URL, certificates, topic policy). */
  readonly env: Record<string, string>;
  /** The running HTTP bridge, when there is one. */
  readonly http: { readonly url: string; readonly token: string; readonly tokenFile: string } | undefined;
  readonly mqttPortFixed: boolean;
  readonly silentAfterSeconds: number;
}

const INSPECTOR = "npx -y -p node@22 -p @modelcontextprotocol/inspector@2.12.0 -c '%s'";

/** Quote for the POSIX shell that `npx -c` starts (inside the outer single quotes). */
function innerQuote(value: string): string {
  return /^[\w@%+=:,./#-]+$/.test(value) ? value : `"${value.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** Wrap the inner command in the single quotes of `npx -c '...'`. */
function inspector(command: string[]): string {
  return INSPECTOR.replace('%s', command.join(' ').replace(/'/g, `'\\''`));
}

export function claudeDesktopConfig(input: NotesInput): string {
  const config = {
    mcpServers: {
      'mqtt-demo': {
        command: input.node,
        args: [input.server],
        // A shorter reconnect ceiling, so the bridge finds the demo broker soon after it starts.
        env: { ...input.env, MQTT_RECONNECT_MAX_MS: '5000' },
      },
    },
  };
  return JSON.stringify(config, null, 2);
}

export function notes(input: NotesInput): string {
  const out: string[] = [];
  const rule = '-'.repeat(100);
  out.push(rule, 'ATTACH AN MCP CLIENT', rule, '');
  out.push(
    'The embedded broker is aedes, which speaks MQTT 3.1.1 only: every demo bridge runs with',
    'MQTT_PROTOCOL_VERSION=4. With 3.1.1 a publish the broker refuses still looks acknowledged',
    '(no reason codes); against Mosquitto, EMQX or HiveMQ keep the default, 5.',
    '',
  );

  out.push(
    '(a) Claude Desktop: add this to claude_desktop_config.json (macOS: ~/Library/Application Support/',
    '    Claude/, Windows: %APPDATA%\\Claude\\), restart Claude Desktop. It starts its own bridge over stdio',
    '    against the demo broker, so keep the demo running while you chat.',
    '',
    claudeDesktopConfig(input),
    '',
  );
  if (!input.mqttPortFixed)
    out.push('    Note: the broker port was picked at random; this block is valid for this run only.', '');

  out.push('(b) MCP Inspector CLI (v2 needs Node 22; npx fetches it):', '');
  if (input.http !== undefined) {
    const base = [
      'mcp-inspector',
      '--cli',
      `${input.http.url}/mcp`,
      '--transport',
      'http',
      '--header',
      innerQuote(`Authorization: Bearer ${input.http.token}`),
    ];
    out.push(
      `    HTTP bridge at ${input.http.url}/mcp; any MCP client sends the header`,
      `      Authorization: Bearer ${input.http.token}`,
      `    (${input.http.tokenFile} holds the line demo=<token>: the principal "demo", then the token)`,
      '',
      inspector([...base, '--method', 'tools/list']),
      '',
      inspector([
        ...base,
        '--method',
        'tools/call',
        '--tool-name',
        'mqtt_get_latest',
        '--tool-arg',
        'filter=plant/#',
      ]),
      '',
      inspector([
        ...base,
        '--method',
        'tools/call',
        '--tool-name',
        'mqtt_publish',
        '--tool-arg',
        'topic=plant/line1/pump/cmd',
        '--tool-arg',
        'payload=off',
      ]),
      '',
    );
  }
  const envFlags = Object.entries(input.env).flatMap(([key, value]) => ['-e', innerQuote(`${key}=${value}`)]);
  out.push(
    '    Over stdio (the Inspector starts its own bridge):',
    '',
    inspector([
      'mcp-inspector',
      '--cli',
      innerQuote(input.node),
      innerQuote(input.server),
      ...envFlags,
      '--method',
      'tools/list',
    ]),
    '',
  );

  out.push(
    '(c) Ask the agent:',
    '',
    '    - What is the temperature on line 2 right now, and how old is that reading?',
    `    - Which devices have gone quiet? (the line 2 vibration sensor stops after ${input.silentAfterSeconds} s)`,
    '    - What topics exist under plant/, and which of them are retained values?',
    '    - Show me what plant/+/alarm has said in the last 10 minutes.',
    '    - Watch plant/line1/# for the next 20 seconds and tell me what happens.',
    '    - Turn the pump on line 1 off. What happens to the line 1 temperature? (then: turn it back on)',
    '    - Draw a chart of plant/+/temperature over the last 10 minutes. (mqtt_chart: a PNG and the numbers)',
    '    - Summarize line 1 over the last hour: min, max and mean per field. (mqtt_summarize)',
    '    - What does plant/line1/energy/raw contain? (binary frames: 0xAA 0x55, seq u8, Wh u32 BE,',
    '      W f32 BE, CRC-16/MODBUS LE)',
    '    - Is the bridge connected, and what am I allowed to publish?',
    '    - What is edge node E7 reporting? (Sparkplug B: metrics by name, with their data types)',
    '    - Set line 1\'s pump to "full speed". (the catalog allows only on and off: refused, with the reason)',
    '',
    rule,
  );
  return out.join('\n');
}
