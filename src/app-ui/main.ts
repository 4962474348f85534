/**
 * The MCP App's entry: connects to the host (ext-apps App over postMessage), shows the chart
 * tool's result, and refreshes it every 30 seconds while the view is visible, by calling the
 * chart tool again through the host. Only read-only tools are ever called.
 */
import { App } from '@modelcontextprotocol/ext-apps/app-with-deps';
import { assertReadOnly, REFRESH_TOOL } from './tools.js';
import { ChartView, type ViewElements } from './view.js';

const REFRESH_MS = 30_000;

// The notifications' parameters, as far as the view reads them (ext-apps' own declarations of
// these types do not resolve under NodeNext: an extensionless re-export in its .d.ts).
interface ToolInputParams {
  readonly arguments?: Record<string, unknown>;
}
interface ToolResultParams {
  readonly isError?: boolean;
  readonly structuredContent?: unknown;
}

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element as T;
}

const elements: ViewElements = {
  chart: byId('chart'),
  field: byId('field'),
  reset: byId('reset'),
  refresh: byId('refresh'),
  status: byId('status'),
  tip: byId('tip'),
};

const app = new App({ name: 'mqtt-mcp-bridge chart', version: '1.0.0' }, {}, { autoResize: true });

async function callReadOnly(name: string, args: Record<string, unknown>): Promise<unknown> {
  assertReadOnly(name);
  const result = await app.callServerTool({ name, arguments: args });
  if (result.isError === true) {
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
    throw new Error(text.slice(0, 200) || 'the tool failed');
  }
  return result.structuredContent;
}

const view = new ChartView(document, elements, (args) => callReadOnly(REFRESH_TOOL, args));

app.ontoolinput = (params: ToolInputParams) => view.setArguments(params.arguments);
app.ontoolresult = (result: ToolResultParams) => {
  if (result.isError === true) elements.status.textContent = 'The chart tool returned an error.';
  else view.show(result.structuredContent);
};

let timer: ReturnType<typeof setInterval> | undefined;
app.onteardown = () => {
  if (timer !== undefined) clearInterval(timer);
  return {};
};

window.addEventListener('resize', () => view.draw());

void app.connect().then(() => {
  timer = setInterval(() => {
    if (document.visibilityState === 'visible') void view.refresh();
  }, REFRESH_MS);
});
