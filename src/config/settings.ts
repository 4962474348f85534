/**
 * Every environment variable the bridge reads, with its default and meaning. This table is the
 * single source for the configuration schema's documentation and for the README's settings
 * table (`npm run docs` regenerates it; a test fails when the README drifts).
 */

export interface SettingDoc {
  /** Default as written in the environment; undefined means "unset". */
  readonly default: string | undefined;
  readonly description: string;
  readonly group: SettingGroup;
  /** The variable holds a secret value (never logged, never echoed). */
  readonly secret?: true;
}

export type SettingGroup =
  | 'Broker connection'
  | 'TLS'
  | 'Topic policy'
  | 'Store'
  | 'History'
  | 'Payload meaning'
  | 'Tool limits'
  | 'HTTP transport'
  | 'Process';

export const SETTINGS = {
  MQTT_URL: {
    default: undefined,
    group: 'Broker connection',
    description:
      'Required. Broker URL: `mqtts://host:8883` (TLS), `mqtt://host:1883` (plain TCP), or MQTT over WebSockets `wss://host:8884/mqtt` (TLS) / `ws://host:8080/mqtt` (the path defaults to `/mqtt`). A URL with `user:password@` is refused; credentials have their own variables. These variables describe one broker, named `default`; for several, use `MQTT_BROKERS_FILE` instead.',
  },
  MQTT_BROKERS_FILE: {
    default: undefined,
    group: 'Broker connection',
    description:
      'YAML or JSON file naming several brokers, each with its own identity, policy and collection: `{"brokers": [{"name", "url", "caFile", "certFile", "keyFile", "keyPassphraseFile", "username", "passwordFile", "protocolVersion", "servername", "clientId", "shareGroup", "read", "write", "deny", "subscribe"}]}` (see [Several brokers](#several-brokers)). Every tool then takes a `broker` argument (default: the first). Setting it together with a per-broker variable (`MQTT_URL`, the TLS files, credentials, `MCP_READ_TOPICS`, `MCP_WRITE_TOPICS`, `MCP_DENY_TOPICS`, `MQTT_SUBSCRIBE`) is an error; secrets stay in files.',
  },
  MQTT_PROTOCOL_VERSION: {
    default: '5',
    group: 'Broker connection',
    description:
      'MQTT protocol version: `5`, `4` (3.1.1) or `auto` (try 5; when the broker refuses it or closes the connection without answering, use 3.1.1 and say so in `mqtt_status` and the log). Version 4 cannot report a publish the broker refused (ACL), so refusals look like successes there.',
  },
  MQTT_CLIENT_ID: {
    default: 'mcp-bridge',
    group: 'Broker connection',
    description:
      'Client id prefix. A random suffix is added (unless `MQTT_REPLICA_ID` is set), so parallel instances never kick each other off the broker.',
  },
  MQTT_REPLICA_ID: {
    default: undefined,
    group: 'Broker connection',
    description:
      "This replica's stable name (1-40 characters from A-Z a-z 0-9 . _ -, unique per replica: `a`, `bridge-2`). The client id is then exactly `{MQTT_CLIENT_ID}-{MQTT_REPLICA_ID}` (no random suffix) and the session is persistent, so a restarted replica resumes its MQTT session and gets what the broker held for it. Over HTTP, its MCP session ids begin with `{MQTT_REPLICA_ID}:`, so a reverse proxy can send each session back to its replica. Needs MQTT 5 (`MQTT_PROTOCOL_VERSION=5`). See [Replicas](docs/SCALING.md#replicas).",
  },
  MQTT_SESSION_EXPIRY_SECONDS: {
    default: undefined,
    group: 'Broker connection',
    description:
      "MQTT 5 Session Expiry Interval: how long the broker keeps this client's session (subscriptions, unacknowledged and queued messages) after a disconnect. Default: 0 without `MQTT_REPLICA_ID` (the session ends with the connection), 300 with it. A positive value needs `MQTT_REPLICA_ID` (a random client id could never resume it). While a replica is away its share of a shared subscription queues at the broker for it, up to the broker's queue limit.",
  },
  MQTT_SHARE_GROUP: {
    default: undefined,
    group: 'Broker connection',
    description:
      "Shared-subscription group (1-40 characters from A-Z a-z 0-9 . _ -). The background collection then subscribes with `$share/{group}/{filter}`, so the broker gives each message to one replica of the group; live waits and resource updates keep their own subscriptions and see everything. Needs MQTT 5 and, for recording that survives a replica's loss, `MQTT_REPLICA_ID` and a shared `HISTORY_URL`.",
  },
  MQTT_USERNAME: {
    default: undefined,
    group: 'Broker connection',
    description:
      'Username for the broker. With mutual TLS and `use_identity_as_username`, the certificate CN is used instead.',
  },
  MQTT_PASSWORD: {
    default: undefined,
    group: 'Broker connection',
    secret: true,
    description: 'Password for the broker. Prefer `MQTT_PASSWORD_FILE`; setting both is an error.',
  },
  MQTT_PASSWORD_FILE: {
    default: undefined,
    group: 'Broker connection',
    description: 'File holding the broker password (a trailing newline is ignored).',
  },
  MQTT_KEEPALIVE_SECONDS: {
    default: '30',
    group: 'Broker connection',
    description: 'MQTT keepalive; a silent broker is detected after about 1.5 times this.',
  },
  MQTT_CONNECT_TIMEOUT_MS: {
    default: '10000',
    group: 'Broker connection',
    description: 'How long one connection attempt may take (TCP, TLS and CONNACK).',
  },
  MQTT_RECONNECT_MIN_MS: {
    default: '1000',
    group: 'Broker connection',
    description: 'First reconnect delay. Delays double per failed attempt, with full jitter.',
  },
  MQTT_RECONNECT_MAX_MS: {
    default: '30000',
    group: 'Broker connection',
    description: 'Upper bound of the reconnect delay.',
  },
  MQTT_PUBLISH_TIMEOUT_MS: {
    default: '10000',
    group: 'Broker connection',
    description:
      'How long a publish waits for the broker. After that its delivery is reported as unknown and it is removed from the outgoing store, so it is never replayed.',
  },
  MQTT_MAX_PACKET_BYTES: {
    default: '1048576',
    group: 'Broker connection',
    description:
      'Largest packet the broker may send us (MQTT 5 Maximum Packet Size); bigger messages are dropped by the broker.',
  },
  MQTT_SUBSCRIBE_QOS: {
    default: '1',
    group: 'Broker connection',
    description: 'QoS of the background subscriptions (0, 1 or 2).',
  },
  MQTT_CA_FILE: {
    default: undefined,
    group: 'TLS',
    description:
      'PEM file with the CA certificate(s) that signed the broker certificate. Unset: the system trust store.',
  },
  MQTT_CERT_FILE: {
    default: undefined,
    group: 'TLS',
    description: 'PEM client certificate for mutual TLS. Set together with `MQTT_KEY_FILE`.',
  },
  MQTT_KEY_FILE: {
    default: undefined,
    group: 'TLS',
    description: 'PEM private key of the client certificate. Its contents are never logged.',
  },
  MQTT_KEY_PASSPHRASE_FILE: {
    default: undefined,
    group: 'TLS',
    description: 'File holding the passphrase of an encrypted `MQTT_KEY_FILE`.',
  },
  MQTT_KEY_PASSPHRASE: {
    default: undefined,
    group: 'TLS',
    secret: true,
    description:
      'Passphrase of an encrypted `MQTT_KEY_FILE` as a value (the MCP Bundle passes it so). Prefer `MQTT_KEY_PASSPHRASE_FILE`; setting both is an error.',
  },
  MQTT_SERVERNAME: {
    default: undefined,
    group: 'TLS',
    description:
      'Name to verify the broker certificate against (and to send as SNI) when connecting by IP address or alias.',
  },
  MQTT_TLS_INSECURE: {
    default: 'false',
    group: 'TLS',
    description:
      'Development only: `true` turns off broker certificate verification, with a warning logged every minute. Refused when `NODE_ENV=production`.',
  },
  MCP_READ_TOPICS: {
    default: '#',
    group: 'Topic policy',
    description:
      'Comma-separated filters the agent may read. `#` does not include `$` topics such as `$SYS/#`; name them explicitly.',
  },
  MCP_WRITE_TOPICS: {
    default: '',
    group: 'Topic policy',
    description:
      'Comma-separated filters the agent may publish to. Empty means read-only: the `mqtt_publish` tool is not registered at all.',
  },
  MCP_DENY_TOPICS: {
    default: '',
    group: 'Topic policy',
    description: 'Comma-separated filters that are never readable or writable. Deny wins over allow.',
  },
  MQTT_SUBSCRIBE: {
    default: undefined,
    group: 'Topic policy',
    description:
      'Comma-separated filters collected in the background from start-up. Default: `MCP_READ_TOPICS`. Messages outside the read policy are dropped on arrival.',
  },
  STORE_MAX_TOPICS: {
    default: '10000',
    group: 'Store',
    description: 'Topics kept in memory; the least recently updated topic is dropped first.',
  },
  STORE_MAX_MESSAGES_PER_TOPIC: {
    default: '100',
    group: 'Store',
    description: 'Messages kept per topic; the oldest is dropped first.',
  },
  STORE_MAX_BYTES: {
    default: '67108864',
    group: 'Store',
    description:
      'Heap bytes the store may use in all, as it counts them: payloads, message properties, topic names and the topic index, each with a measured fixed cost (176 bytes per message, 264 per topic, 248 per index node; the index has at most two nodes per topic, however deep or long the topics). Under pressure the oldest history goes first, then the oldest last-known values with their topics.',
  },
  STORE_MAX_AGE_SECONDS: {
    default: '86400',
    group: 'Store',
    description: 'Messages older than this are dropped.',
  },
  STORE_MAX_PAYLOAD_BYTES: {
    default: '65536',
    group: 'Store',
    description: 'Payload bytes kept per message; longer payloads are stored cut and marked truncated.',
  },
  HISTORY_PATH: {
    default: undefined,
    group: 'History',
    description:
      'SQLite file that records every collected message the read policy admits, so reads reach past memory and survive restarts. Unset: no history (memory only). The Docker image sets `/data/history.db` (a volume). Created with mode 0600 (its directory 0700 when the bridge creates it); a file that is not a history database, or one another bridge is recording to, stops the start with exit code 1 and is left as it was.',
  },
  HISTORY_URL: {
    default: undefined,
    group: 'History',
    description:
      'PostgreSQL database to record into instead of an SQLite file: `postgres://user@host:5432/database` (a URL with a password inside is refused; use `HISTORY_PASSWORD_FILE`). Several bridges may share it. The bridge creates and migrates its tables in the schema `mqtt_history` at start (the user needs CREATE on the database; with the TimescaleDB extension installed there, as hypertables); a database that cannot be reached does not stop the start: history shows `paused` with the reason and recording resumes when it answers. Setting both `HISTORY_PATH` and `HISTORY_URL` is an error.',
  },
  HISTORY_PASSWORD_FILE: {
    default: undefined,
    group: 'History',
    description: 'File holding the password of the `HISTORY_URL` user (a trailing newline is ignored).',
  },
  HISTORY_CA_FILE: {
    default: undefined,
    group: 'History',
    description:
      'PEM CA certificate(s) of the database server: turns on TLS to `HISTORY_URL`, verified in full (the chain to this CA and the host name against the certificate, as `sslmode=verify-full`). Unset: no TLS.',
  },
  HISTORY_STATEMENT_TIMEOUT_MS: {
    default: '10000',
    group: 'History',
    description:
      'With `HISTORY_URL`: longest a database statement may take (`statement_timeout`); a slow or locked database then pauses history with the reason instead of holding a batch, and the batch is tried again.',
  },
  HISTORY_RETENTION_DAYS: {
    default: '30',
    group: 'History',
    description: 'Records older than this are pruned, in small steps.',
  },
  HISTORY_MAX_BYTES: {
    default: '1073741824',
    group: 'History',
    description:
      'Bytes on disk (database and write-ahead log) the history may use; the oldest records are pruned first to stay under it. The file may pass it by one flush interval of writes and the pages the last pruning step freed (a few MiB) before it shrinks again.',
  },
  HISTORY_TOPICS: {
    default: undefined,
    group: 'History',
    description: 'Comma-separated filters to record. Default: everything collected.',
  },
  HISTORY_MAX_PAYLOAD_BYTES: {
    default: '65536',
    group: 'History',
    description:
      'Payload bytes kept per recorded message; longer payloads are recorded cut, marked truncated, with their original size.',
  },
  HISTORY_FLUSH_MS: {
    default: '500',
    group: 'History',
    description:
      'How often collected messages are written, in one transaction. A crash (`kill -9`, power loss of the container) loses at most this much.',
  },
  HISTORY_QUEUE_MAX: {
    default: '100000',
    group: 'History',
    description:
      'Messages waiting to be written at most (also bounded to 64 MiB of payload). When the disk cannot keep up or history is paused, the oldest unwritten messages are dropped and counted in `mqtt_status`; ingest never waits.',
  },
  MCP_TOPIC_CATALOG_FILE: {
    default: undefined,
    group: 'Payload meaning',
    description:
      'YAML or JSON file describing topics: `{"topics": [{"filter", "description", "unit", "schema", "publish": {"schema", "confirm"}}]}`. Reads carry the description and unit of each topic; a publish to a topic whose entry has `publish.schema` must validate against it (JSON Schema 2020-12), and `publish.confirm` asks the user first. It never widens the write policy. Checked at start and re-read on SIGHUP.',
  },
  MQTT_SPARKPLUG: {
    default: 'auto',
    group: 'Payload meaning',
    description:
      '`auto`: decode Sparkplug B payloads on topics of the strict namespace `spBv1.0/{group}/{NBIRTH,NDATA,NDEATH,DBIRTH,DDATA,DDEATH,NCMD,DCMD}/{edge}[/{device}]` (metric names from the BIRTH that declared the aliases), track edge nodes and devices, and offer `mqtt_sparkplug_nodes` and `mqtt_sparkplug_rebirth`; `off`: show those payloads as base64 like any other bytes.',
  },
  MCP_RESULT_PAYLOAD_BYTES: {
    default: '4096',
    group: 'Tool limits',
    description:
      'Payload bytes shown per message in a tool result; longer payloads are cut and marked truncated.',
  },
  MCP_PUBLISH_MAX_BYTES: {
    default: '65536',
    group: 'Tool limits',
    description: 'Largest payload the agent may publish, in bytes.',
  },
  MCP_RESULT_MAX_BYTES: {
    default: '32768',
    group: 'Tool limits',
    description:
      'Bytes of messages in one tool result, counted whole (payload as shown, topic, properties and fields), and of topic names in a listing; what is beyond it is left out and counted in `omitted`. The first message is always shown.',
  },
  MCP_TOOL_RATE_PER_MINUTE: {
    default: '300',
    group: 'Tool limits',
    description:
      'Calls per minute per client and tool (bursts up to a fifth of it); more get a rate-limit error with the time to retry.',
  },
  MCP_PUBLISH_RATE_PER_MINUTE: {
    default: '30',
    group: 'Tool limits',
    description:
      "Publishes per minute per client, in bursts of up to 5 (or a second's worth when that is more). Publishing is the strictest limit.",
  },
  MCP_MAX_CONCURRENT_CALLS: {
    default: '8',
    group: 'Tool limits',
    description: 'Tool calls one client may have running at once (waits included).',
  },
  MCP_TOOL_TIMEOUT_MS: {
    default: '65000',
    group: 'Tool limits',
    description:
      'Deadline of every tool call; longer calls end with a timeout error. Above the longest wait (60 s).',
  },
  MCP_PUBLISH_ALLOW_RETAIN: {
    default: 'false',
    group: 'Tool limits',
    description:
      '`true` lets the agent publish retained messages (which persist on the broker for every future subscriber).',
  },
  MCP_PUBLISH_ALLOW_QOS2: {
    default: 'false',
    group: 'Tool limits',
    description: '`true` lets the agent publish with QoS 2; otherwise QoS 0 and 1 only.',
  },
  MCP_CONFIRM_TOPICS: {
    default: '',
    group: 'Tool limits',
    description:
      "Comma-separated filters whose publishes need the user's confirmation through MCP elicitation first; a client that cannot ask gets a refusal.",
  },
  MCP_AUDIT_LOG_FILE: {
    default: undefined,
    group: 'Process',
    description:
      'File that receives the audit log (one JSON line per publish attempt and per suspicious payload shown; never the payload). Unset: audit lines go to stderr, marked `"log":"audit"`.',
  },
  MCP_MAX_SUBSCRIPTIONS: {
    default: '50',
    group: 'Tool limits',
    description:
      'Most collection filters active at once, in all: configured plus added with `mqtt_subscribe` (one broker subscription each).',
  },
  MCP_MAX_SUBSCRIPTIONS_PER_CLIENT: {
    default: '20',
    group: 'Tool limits',
    description:
      "Most collection filters one MCP client (principal) may add with `mqtt_subscribe`. Each client sees and removes only its own; other clients' filters are shown as a count.",
  },
  MCP_TRANSPORT: {
    default: 'stdio',
    group: 'HTTP transport',
    description:
      '`stdio` (one client, started by it) or `http` (Streamable HTTP at `/mcp`, several clients, for compose and services).',
  },
  MCP_HTTP_HOST: {
    default: '127.0.0.1',
    group: 'HTTP transport',
    description:
      'Address to listen on. Anything but loopback requires authentication and `MCP_ALLOWED_HOSTS` (in Docker: `0.0.0.0`).',
  },
  MCP_HTTP_PORT: {
    default: '3000',
    group: 'HTTP transport',
    description: 'Port to listen on (`0` picks a free one and logs it).',
  },
  MCP_AUTH: {
    default: 'token',
    group: 'HTTP transport',
    description:
      '`token` (bearer tokens from `MCP_AUTH_TOKEN_FILE`, compared in constant time), `oauth` (JWT access tokens from an OAuth 2.1 authorization server) or `none` (refused unless listening on loopback).',
  },
  MCP_AUTH_TOKEN_FILE: {
    default: undefined,
    group: 'HTTP transport',
    description:
      'File with the bearer token(s), one per line, each at least 32 characters, optionally named `name=token` (the name is the principal in logs and metrics). Generate one with `openssl rand -hex 32`.',
  },
  MCP_ALLOWED_HOSTS: {
    default: undefined,
    group: 'HTTP transport',
    description:
      'Comma-separated host names accepted in the `Host` header (DNS-rebinding protection); any other is refused with 403. Default on loopback: `localhost,127.0.0.1,[::1]`; required otherwise.',
  },
  MCP_ALLOWED_ORIGINS: {
    default: '',
    group: 'HTTP transport',
    description:
      'Comma-separated browser origins allowed to call the server (e.g. `https://app.example.com`). A request with any other `Origin` is refused with 403; requests without `Origin` (non-browser clients) pass.',
  },
  MCP_PUBLIC_URL: {
    default: undefined,
    group: 'HTTP transport',
    description:
      'Base URL clients use to reach the server, e.g. `https://mcp.example.com`; names the protected resource in OAuth metadata. Default `http://<MCP_HTTP_HOST>:<MCP_HTTP_PORT>`.',
  },
  MCP_OAUTH_ISSUER: {
    default: undefined,
    group: 'HTTP transport',
    description:
      'OAuth mode: the authorization server (token `iss`), announced in the protected resource metadata.',
  },
  MCP_OAUTH_JWKS_URL: {
    default: undefined,
    group: 'HTTP transport',
    description:
      'OAuth mode: where the issuer publishes its signing keys. Default `<issuer>/.well-known/jwks.json`.',
  },
  MCP_OAUTH_AUDIENCE: {
    default: undefined,
    group: 'HTTP transport',
    description: 'OAuth mode: the audience tokens must carry. Default: this server, `<MCP_PUBLIC_URL>/mcp`.',
  },
  MCP_OAUTH_SCOPES: {
    default: 'mqtt:read',
    group: 'HTTP transport',
    description:
      'OAuth mode: scopes every request needs; a token without them gets 403 with a `scope=` challenge.',
  },
  MCP_OAUTH_REQUIRE_AT_JWT: {
    default: 'false',
    group: 'HTTP transport',
    description:
      'OAuth mode: `true` accepts only RFC 9068 access tokens (JWT header `typ: at+jwt`), for issuers that mark them so; their ID tokens are then refused even with the right audience. `false`: no `typ` or the generic `JWT` pass too. Any other `typ` is refused.',
  },
  MCP_OAUTH_WRITE_SCOPE: {
    default: 'mqtt:write',
    group: 'HTTP transport',
    description: 'OAuth mode: the extra scope `mqtt_publish` needs.',
  },
  MCP_HTTP_MAX_SESSIONS: {
    default: '100',
    group: 'HTTP transport',
    description:
      "Most MCP sessions held at once, all principals together. When full, a principal that holds sessions gives up its own idle-longest one; a principal that holds none gets 503 with `Retry-After`. Another principal's session is never closed to make room.",
  },
  MCP_HTTP_MAX_SESSIONS_PER_PRINCIPAL: {
    default: '10',
    group: 'HTTP transport',
    description:
      "Most MCP sessions one principal (token name, OAuth subject) holds at once; a new one closes that principal's own session idle the longest. At most `MCP_HTTP_MAX_SESSIONS`.",
  },
  MCP_HTTP_SESSION_IDLE_SECONDS: {
    default: '900',
    group: 'HTTP transport',
    description: 'A session without requests for this long is closed.',
  },
  MCP_HTTP_MAX_BODY_BYTES: {
    default: '1048576',
    group: 'HTTP transport',
    description: 'Largest request body; bigger requests get 413.',
  },
  MCP_HTTP_RATE_LIMIT_PER_MINUTE: {
    default: '600',
    group: 'HTTP transport',
    description: 'Requests per minute per authenticated principal; more get 429 with `Retry-After`.',
  },
  MCP_HTTP_MAX_CONNECTIONS: {
    default: '768',
    group: 'HTTP transport',
    description:
      "Most HTTP connections open at once; more are closed as they arrive. Keep it below the process's file-descriptor limit (1,024 in `docker-compose.yml`), which also covers the broker connection and files.",
  },
  MCP_HTTP_MAX_UNAUTHENTICATED_CONNECTIONS: {
    default: '256',
    group: 'HTTP transport',
    description:
      'Most connections open that are waiting for a request and have not made an authenticated one. When full, the oldest that has had a second to send its request is closed, from the address holding the most. Below `MCP_HTTP_MAX_CONNECTIONS`: the difference is kept for authenticated clients.',
  },
  MCP_HTTP_MAX_UNAUTHENTICATED_PER_ADDRESS: {
    default: '32',
    group: 'HTTP transport',
    description:
      "The same, per remote address (an IPv6 client by its /64). Behind a reverse proxy every client has the proxy's address; raise it there.",
  },
  MCP_HTTP_HEADERS_TIMEOUT_SECONDS: {
    default: '10',
    group: 'HTTP transport',
    description:
      'A connection must deliver complete request headers within this long (from connecting, and from the start of each request); otherwise it gets 408 and is closed.',
  },
  MCP_METRICS_PUBLIC: {
    default: 'false',
    group: 'HTTP transport',
    description: '`true` serves `/metrics` without authentication (for a scraper on a private network).',
  },
  LOG_LEVEL: {
    default: 'info',
    group: 'Process',
    description:
      'pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`. Logs go to stderr only; payloads are never logged above `debug`.',
  },
  MCP_SETTING_LABELS: {
    default: undefined,
    group: 'Process',
    description:
      'The names a settings form shows for the variables, as `VARIABLE=Label` pairs separated by `;` (the MCP Bundle sets it), so that a configuration error names the field the user filled in: `"CA certificate" (MQTT_CA_FILE): cannot read ...`.',
  },
  NODE_ENV: {
    default: undefined,
    group: 'Process',
    description:
      '`production` (set in the Docker image) skips the `.env` file and refuses `MQTT_TLS_INSECURE`. Otherwise a `.env` file in the working directory is read for local development.',
  },
} as const satisfies Record<string, SettingDoc>;

export type SettingName = keyof typeof SETTINGS;

export function settingDefault(name: SettingName): string | undefined {
  return SETTINGS[name].default;
}
