#!/usr/bin/env node
/**
 * Entry point: the only file that reads process.env and process.argv.
 * Order matters: the `debug` package used by dependencies reads DEBUG when it is first
 * imported, and it can print credentials and payloads (DEBUG=mqttjs* prints the CONNECT
 * packet). So DEBUG is removed before anything else is loaded, and everything else is
 * loaded afterwards with a dynamic import.
 */
import process from 'node:process';

const env: Record<string, string | undefined> = { ...process.env };
if (env.NODE_ENV !== 'production') {
  // Local development only. `quiet` and `debug: false` keep dotenv off stdout (it would corrupt
  // JSON-RPC), also when DOTENV_CONFIG_DEBUG is set.
  const dotenv = await import('dotenv');
  dotenv.config({ quiet: true, debug: false, processEnv: env });
}
delete process.env.DEBUG;
delete env.DEBUG;

const { main } = await import('./main.js');
await main(env, process.argv.slice(2));
