/**
 * Demo options from flags (`npm run demo -- --port 4000`) or the environment (DEMO_*).
 * A flag wins over its variable. Bad values stop the demo with one line naming the option.
 */
import { resolve } from 'node:path';

export interface DemoOptions {
  /** Port of the bridge's Streamable HTTP listener (0: any free port). */
  readonly httpPort: number;
  /** httpPort was not chosen by the user (so another free port may be used when it is taken). */
  readonly httpPortIsDefault: boolean;
  /** Port of the embedded broker's TLS listener (0: any free port). */
  readonly mqttPort: number;
  /** mqttPort was not chosen by the user (so another free port may be used when it is taken). */
  readonly mqttPortIsDefault: boolean;
  /** Stop by itself after this many seconds (0: run until Ctrl-C). */
  readonly durationSeconds: number;
  /** The vibration sensor on line 2 stops publishing after this many seconds. */
  readonly silentAfterSeconds: number;
  /** Telemetry period of the simulated devices. */
  readonly intervalMs: number;
  /** Run the broker and the plant only (for a client that starts its own bridge over stdio). */
  readonly bridge: boolean;
  /** Where the demo's test PKI lives (kept between runs so a client configuration stays valid). */
  readonly pkiDir: string;
  readonly help: boolean;
}

export const USAGE = `npm run demo [-- options]

  --port N            bridge HTTP port (env DEMO_HTTP_PORT, default 3000; 0 = any free port)
  --mqtt-port N       embedded broker TLS port (env DEMO_MQTT_PORT, default 18883; 0 = any)
  --duration S        stop after S seconds (env DEMO_DURATION, default 0 = until Ctrl-C)
  --silent-after S    the line 2 vibration sensor goes quiet after S seconds (env DEMO_SILENT_AFTER, default 45)
  --interval-ms N     telemetry period (env DEMO_INTERVAL_MS, default 2000)
  --no-bridge         broker and plant only (env DEMO_NO_BRIDGE=1)
  --pki-dir DIR       certificates (env DEMO_PKI_DIR, default demo/.pki)
  --help`;

const FLAGS = {
  '--port': 'DEMO_HTTP_PORT',
  '--mqtt-port': 'DEMO_MQTT_PORT',
  '--duration': 'DEMO_DURATION',
  '--silent-after': 'DEMO_SILENT_AFTER',
  '--interval-ms': 'DEMO_INTERVAL_MS',
  '--pki-dir': 'DEMO_PKI_DIR',
} as const;

type Flag = keyof typeof FLAGS;

export class OptionError extends Error {}

export function parseOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  demoDir: string,
): DemoOptions {
  const values: Record<string, string | undefined> = {};
  for (const name of Object.values(FLAGS)) values[name] = env[name];
  let bridge = !['1', 'true', 'yes'].includes((env.DEMO_NO_BRIDGE ?? '').toLowerCase());
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--no-bridge') bridge = false;
    else if (arg === '--help' || arg === '-h') help = true;
    else {
      const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
      if (!(flag in FLAGS)) throw new OptionError(`unknown option ${arg} (see --help)`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new OptionError(`${flag} needs a value`);
      values[FLAGS[flag as Flag]] = value;
    }
  }
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new OptionError(`${name} / its flag: expected an integer ${min}..${max}, got "${raw}"`);
    return n;
  };
  return {
    httpPort: int('DEMO_HTTP_PORT', 3000, 0, 65535),
    httpPortIsDefault: (values.DEMO_HTTP_PORT ?? '') === '',
    mqttPort: int('DEMO_MQTT_PORT', 18883, 0, 65535),
    mqttPortIsDefault: (values.DEMO_MQTT_PORT ?? '') === '',
    durationSeconds: int('DEMO_DURATION', 0, 0, 31_536_000),
    silentAfterSeconds: int('DEMO_SILENT_AFTER', 45, 0, 86_400),
    intervalMs: int('DEMO_INTERVAL_MS', 2000, 100, 60_000),
    bridge,
    pkiDir: resolve(values.DEMO_PKI_DIR || resolve(demoDir, '.pki')),
    help,
  };
}
