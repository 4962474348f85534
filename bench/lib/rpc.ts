/**
 * Lean MCP clients for measuring servers, not clients: JSON-RPC lines written straight to a
 * spawned server's stdin (or POSTed over HTTP), responses matched by id without parsing the
 * body. The SDK's Client would validate every result against the tool's output schema, which
 * would add client-side cost to the bridge's numbers but not to the baselines'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { adopt } from '../../test/helpers/broker.js';
import { waitExit } from './proc.js';

export const PROTOCOL_VERSION = '2025-06-18';

export interface RpcResponse {
  /** The raw response line (JSON text). */
  readonly line: string;
  /** Bytes of the response on the wire (UTF-8, without the newline). */
  readonly bytes: number;
}

interface Pending {
  resolve(response: RpcResponse): void;
  reject(error: Error): void;
}

const ID_AT_END = /"id":(\d+)\}$/;

export class StdioRpc {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private stderrTail = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.onData(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-16_384);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      for (const p of this.pending.values())
        p.reject(new Error(`server exited (${code}) with a request pending:\n${this.stderrTail}`));
      this.pending.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  stderr(): string {
    return this.stderrTail;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (let i = this.buffer.indexOf('\n', start); i >= 0; i = this.buffer.indexOf('\n', start)) {
      const line = this.buffer.slice(start, i);
      start = i + 1;
      this.onLine(line);
    }
    this.buffer = start === 0 ? this.buffer : this.buffer.slice(start);
  }

  private onLine(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let id: number | undefined;
    const m = ID_AT_END.exec(line);
    if (m !== null) id = Number(m[1]);
    else {
      const parsed = JSON.parse(line) as { id?: unknown; method?: unknown };
      if (typeof parsed.id === 'number' && parsed.method === undefined) id = parsed.id;
    }
    if (id === undefined) return; // a notification (logging, progress)
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.resolve({ line, bytes: Buffer.byteLength(line) });
  }

  notify(method: string, params?: unknown): void {
    this.child.stdin?.write(
      JSON.stringify({ jsonrpc: '2.0', method, ...(params !== undefined ? { params } : {}) }) + '\n',
    );
  }

  request(method: string, params?: unknown): Promise<RpcResponse> {
    const id = this.nextId++;
    return new Promise<RpcResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(
        JSON.stringify({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) }) + '\n',
      );
    });
  }

  async initialize(): Promise<void> {
    await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'bench', version: '1' },
    });
    this.notify('notifications/initialized');
  }

  callTool(name: string, args: Record<string, unknown>): Promise<RpcResponse> {
    return this.request('tools/call', { name, arguments: args });
  }

  /** Call a tool and parse the result; throws on isError. */
  async ok(name: string, args: Record<string, unknown> = {}): Promise<Record<string, any>> {
    const response = await this.callTool(name, args);
    const parsed = JSON.parse(response.line) as { result?: Record<string, any>; error?: unknown };
    if (parsed.result === undefined || parsed.result.isError === true) {
      throw new Error(`${name} failed: ${response.line.slice(0, 500)}`);
    }
    return parsed.result;
  }

  /** Close stdin (the servers shut down on it), wait for the exit. */
  async close(timeoutMs = 6000): Promise<number | null> {
    this.child.stdin?.end();
    return waitExit(this.child, timeoutMs);
  }
}

/** Spawn a Node server speaking MCP over stdio (dist/index.js or the minimal server). */
export function spawnStdio(
  script: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): StdioRpc {
  const child = adopt(
    spawn(process.execPath, [...nodeArgs, script], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  return new StdioRpc(child);
}

// ---- Streamable HTTP ----

export class HttpRpc {
  private nextId = 1;
  private session: string | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    private readonly port: number,
    private readonly token: string,
  ) {}

  private post(body: unknown): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    const data = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${this.token}`,
      'content-length': String(Buffer.byteLength(data)),
    };
    if (this.session !== undefined) {
      headers['mcp-session-id'] = this.session;
      headers['mcp-protocol-version'] = PROTOCOL_VERSION;
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: this.port, path: '/mcp', method: 'POST', headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  private static payload(text: string, headers: IncomingHttpHeaders): string {
    if (!String(headers['content-type'] ?? '').includes('text/event-stream')) return text;
    // One SSE event per response: "event: message\ndata: {...}\n\n".
    const lines = text.split('\n').filter((l) => l.startsWith('data:'));
    return lines.map((l) => l.slice(5).trim()).join('');
  }

  async initialize(): Promise<void> {
    const res = await this.post({
      jsonrpc: '2.0',
      id: this.nextId++,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    });
    if (res.status !== 200) throw new Error(`initialize: HTTP ${res.status} ${res.text.slice(0, 300)}`);
    const session = res.headers['mcp-session-id'];
    if (typeof session !== 'string') throw new Error('initialize: no mcp-session-id');
    this.session = session;
    const ack = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (ack.status !== 202) throw new Error(`initialized: HTTP ${ack.status}`);
  }

  /** One tool call; resolves with the status and whether the result is a JSON-RPC/tool error. */
  async callTool(
    name: string,
    args: Record<string, unknown>,
  ): Promise<{ ok: boolean; detail: string; bytes: number }> {
    const res = await this.post({
      jsonrpc: '2.0',
      id: this.nextId++,
      method: 'tools/call',
      params: { name, arguments: args },
    });
    if (res.status !== 200)
      return { ok: false, detail: `HTTP ${res.status} ${res.text.slice(0, 200)}`, bytes: 0 };
    const body = HttpRpc.payload(res.text, res.headers);
    const isError =
      body.includes('"isError":true') ||
      body.startsWith('{"jsonrpc":"2.0","error"') ||
      /"error":\{"code"/.test(body.slice(0, 64));
    return { ok: !isError, detail: isError ? body.slice(0, 200) : '', bytes: Buffer.byteLength(body) };
  }

  async close(): Promise<void> {
    if (this.session !== undefined) {
      await new Promise<void>((resolve) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port: this.port,
            path: '/mcp',
            method: 'DELETE',
            headers: {
              authorization: `Bearer ${this.token}`,
              'mcp-session-id': this.session,
              'mcp-protocol-version': PROTOCOL_VERSION,
            },
            agent: this.agent,
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', () => resolve());
        req.end();
      });
    }
    this.agent.destroy();
  }
}
