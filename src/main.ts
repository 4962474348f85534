/**
 * Builds the long-lived objects (config, logger, MQTT link, store, policy), picks the
 * transport, installs the signal and stdin handlers and chooses the exit code.
 */
import { existsSync, readFileSync } from 'node:fs';
import process from 'node:process';
import { createApp } from './app.js';
import { configErrorSecrets, loadConfig, type Config } from './config/load.js';
import { ConfigError } from './errors.js';
import { openHistories, placeHistories } from './broker-history.js';
import { PostgresHistory } from './history/postgres-backend.js';
import { HistoryOpenError, type HistoryBackend } from './history/types.js';
import { createLogger, type Logger, type LogLevel } from './logging/logger.js';
import { Scrubber } from './logging/scrub.js';
import { createServer } from './server.js';
import { createShutdown } from './shutdown.js';
import { serveStdio } from './transports/stdio.js';

const SHUTDOWN_DEADLINE_MS = 4500;

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

export async function main(
  env: Readonly<Record<string, string | undefined>>,
  argv: readonly string[],
): Promise<void> {
  if (argv.includes('--version')) {
    process.stderr.write(`${packageVersion()}\n`);
    return;
  }
  const scrubber = new Scrubber();
  // loadConfig, with every secret it read (or named in its refusal) added to the scrubber.
  const load = (): Config | ConfigError => {
    try {
      const config = loadConfig(env, (path) => readFileSync(path));
      scrubber.add(config.secrets);
      return config;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      scrubber.add(configErrorSecrets(error));
      return error;
    }
  };
  const config = load();
  if (config instanceof ConfigError) {
    const logger = createLogger({ level: validLevel(env.LOG_LEVEL ?? 'info'), scrubber });
    logger.fatal({ problems: config.problems }, config.message);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ level: config.logLevel, scrubber });
  installCrashHandlers(logger);
  // SIGHUP: read the configuration again, for new TLS material (certificate rotation). Files
  // that do not pass loadConfig's checks change nothing; the current connection stays.
  const reread = (): Config | undefined => {
    const fresh = load();
    if (!(fresh instanceof ConfigError)) return fresh;
    logger.error(
      { problems: fresh.problems },
      'SIGHUP: the configuration does not load; TLS material and topic catalog not reloaded, the current ones stay',
    );
    return undefined;
  };
  try {
    await run(config, logger, scrubber, reread);
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    process.exit(2);
  }
}

async function run(
  config: Config,
  logger: Logger,
  scrubber: Scrubber,
  reread: () => Config | undefined,
): Promise<void> {
  let brokerHistory: Awaited<ReturnType<typeof openHistories>>;
  try {
    const placement = placeHistories(config, (broker) =>
      logger.warn(
        { path: config.history?.path, broker },
        'history: the main history holds a broker this configuration does not name; it is left as it is and no broker reads it (name that broker again to read its past)',
      ),
    );
    brokerHistory = await openHistories(config, placement);
  } catch (error) {
    // Not a history database, corrupt, in use by another bridge, or another broker's: the store
    // stays as it is.
    if (!(error instanceof HistoryOpenError)) throw error;
    const variable = config.history?.postgres !== undefined ? 'HISTORY_URL' : 'HISTORY_PATH';
    const where = config.brokers.length > 1 ? `${variable}, with MQTT_BROKERS_FILE` : variable;
    logger.fatal({ path: config.history?.path }, `${error.message} (${where})`);
    process.exitCode = 1;
    return;
  }
  for (const [broker, { path, backend }] of brokerHistory) {
    const fault = backend instanceof PostgresHistory ? backend.startFault : undefined;
    const fields = config.brokers.length > 1 ? { broker, path } : { path };
    if (fault !== undefined)
      logger.warn(
        { ...fields, reason: fault.message },
        'history: the database cannot be used yet; recording starts when it can (live tools work meanwhile)',
      );
    else logger.info(fields, 'history: recording');
  }
  const first = brokerHistory.get(config.brokers[0]?.name ?? 'default');
  const history: HistoryBackend | undefined = first?.backend;
  const app = createApp(config, logger, scrubber, packageVersion(), undefined, {
    inContainer: inContainer(),
    brokerHistory,
  });
  const { deps } = app;
  let closeTransport: () => Promise<void> = async () => undefined;
  const shutdown = createShutdown({
    logger,
    deadlineMs: SHUTDOWN_DEADLINE_MS,
    steps: [
      { name: 'mcp', run: () => closeTransport() },
      { name: 'mqtt', run: () => app.stop(2500) },
    ],
    exit: (code) => process.exit(code),
  });
  const onSignal = (signal: string) => () =>
    shutdown.started ? shutdown.force(signal) : shutdown.begin(signal);
  process.on('SIGTERM', onSignal('SIGTERM'));
  // SIGUSR2: an online backup of the history, next to it (HISTORY_PATH.backup), while recording
  // goes on (new messages wait in the bounded queue meanwhile).
  if (history?.backup !== undefined && first !== undefined) {
    const target = `${first.path}.backup`;
    const backup = history.backup.bind(history);
    process.on('SIGUSR2', () => {
      logger.info({ path: target }, 'history: backup started (SIGUSR2)');
      const started = Date.now();
      backup(target).then(
        () => logger.info({ path: target, ms: Date.now() - started }, 'history: backup written'),
        (error: unknown) => logger.error({ path: target, reason: String(error) }, 'history: backup failed'),
      );
    });
  }
  process.on('SIGINT', onSignal('SIGINT'));
  // Only the TLS material and the topic catalog are taken from the new configuration; other
  // settings need a restart.
  process.on('SIGHUP', () => {
    if (shutdown.started) return;
    logger.info('SIGHUP: reloading the TLS material and the topic catalog');
    const fresh = reread();
    if (fresh === undefined) return;
    app.setCatalog(fresh.catalog);
    logger.info({ entries: fresh.catalog.entries.length }, 'topic catalog loaded');
    for (const broker of app.brokers) {
      const tls = fresh.brokers.find((b) => b.name === broker.name)?.mqtt.tls;
      if (tls !== undefined) broker.link.reloadTls(tls);
    }
  });

  if (config.transport === 'http') {
    // A port that is taken or forbidden is an operator problem: one clear line, exit 1.
    const listening = (error: unknown): never => {
      const code = (error as { code?: unknown }).code;
      const why =
        code === 'EADDRINUSE'
          ? 'address already in use'
          : code === 'EACCES'
            ? 'permission denied'
            : typeof code === 'string'
              ? code
              : 'error';
      logger.fatal(
        { code },
        `cannot listen on ${config.http.host}:${config.http.port}: ${why} (MCP_HTTP_HOST, MCP_HTTP_PORT)`,
      );
      return process.exit(1);
    };
    let sessions = () => 0;
    // The HTTP stack (express, jose, prom-client) is loaded only in HTTP mode: stdio starts faster.
    const [{ Metrics }, { serveHttp }] = await Promise.all([
      import('./metrics.js'),
      import('./transports/http.js'),
    ]);
    const metrics = new Metrics({
      brokers: app.brokers,
      sessions: () => sessions(),
      eventListeners: () => app.link.eventListenerCount,
    });
    for (const view of deps.brokers.values()) view.telemetry = metrics;
    const replicaId = config.brokers[0]?.mqtt.replica.replicaId;
    const http = await serveHttp({
      config: config.http,
      logger,
      createServer: () => createServer(deps),
      // Ready while any broker is connected: one broker's outage does not stop the others' tools.
      ready: () => app.brokers.some((b) => b.link.connected),
      metrics,
      // MQTT_REPLICA_ID (the same for every broker) names this replica's sessions.
      ...(replicaId !== undefined ? { sessionPrefix: replicaId } : {}),
    }).catch(listening);
    sessions = () => http.sessions.size;
    closeTransport = () => http.close();
  } else {
    const server = createServer(deps);
    const stdio = await serveStdio(server, { logger, onStdinClosed: () => shutdown.begin('stdin closed') });
    closeTransport = stdio.close;
    const previous = server.server.onclose;
    server.server.onclose = () => {
      previous?.();
      shutdown.begin('MCP transport closed');
    };
  }
  logger.info(
    {
      transport: config.transport,
      readOnly: deps.policy.readOnly,
      subscribe: config.subscribe,
      version: deps.version,
    },
    'mqtt-mcp-bridge started',
  );
  await app.start();
}

/** Docker and Podman mark their containers with these files. */
function inContainer(): boolean {
  return existsSync('/.dockerenv') || existsSync('/run/.containerenv');
}

function validLevel(level: string): LogLevel {
  return ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)
    ? (level as LogLevel)
    : 'info';
}

function installCrashHandlers(logger: Logger): void {
  const crash = (kind: string) => (error: unknown) => {
    logger.fatal({ err: error }, kind);
    process.exit(2);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled promise rejection'));
}
