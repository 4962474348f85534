/**
 * A minimal MCP Apps host for the browser test, bundled into the test page: it puts the view's
 * HTML into a sandboxed iframe (scripts only, an opaque origin, as hosts do), speaks the Apps
 * protocol to it with ext-apps' AppBridge, sends the tool's arguments and result, and forwards
 * the view's tools/call requests to the test (window.hostCallTool, exposed by Playwright).
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

interface Fixture {
  readonly html: string;
  readonly args: Record<string, unknown>;
  readonly result: CallToolResult;
}

declare global {
  interface Window {
    hostFixture(): Promise<Fixture>;
    hostCallTool(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
    hostEvents: string[];
  }
}

async function main(): Promise<void> {
  window.hostEvents = [];
  // A payload that managed to run would report here.
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const data = event.data;
    if (typeof data === 'object' && data !== null && 'xss' in data) window.hostEvents.push('xss');
  });
  const fixture = await window.hostFixture();
  const iframe = document.createElement('iframe');
  iframe.setAttribute('sandbox', 'allow-scripts');
  iframe.id = 'view';
  iframe.width = '840';
  iframe.height = '640';
  document.body.append(iframe);
  const view = iframe.contentWindow;
  if (view === null) throw new Error('no iframe window');
  const bridge = new AppBridge(
    null,
    { name: 'test-host', version: '1.0.0' },
    { serverTools: {}, logging: {} },
  );
  bridge.oncalltool = async (params) => window.hostCallTool(params.name, params.arguments ?? {});
  bridge.oninitialized = () => {
    window.hostEvents.push('initialized');
    void bridge
      .sendToolInput({ arguments: fixture.args })
      .then(() => bridge.sendToolResult(fixture.result))
      .then(() => window.hostEvents.push('result-sent'));
  };
  await bridge.connect(new PostMessageTransport(view, view));
  iframe.srcdoc = fixture.html;
}

main().catch((error: unknown) => {
  window.hostEvents.push(`host-error: ${String(error)}`);
});
