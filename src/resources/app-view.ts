/**
 * The MCP App's view as a `ui://` resource (the io.modelcontextprotocol/ui extension): one
 * self-contained HTML file, built by `npm run build` into dist/app-ui/view.html, served with the
 * `text/html;profile=mcp-app` MIME type and an empty CSP allow-list (no network origins, no
 * external resources, no frames). A tool opens it with `_meta.ui.resourceUri` = APP_VIEW_URI.
 * The only importer of @modelcontextprotocol/ext-apps on the server.
 */
import { readFile } from 'node:fs/promises';
import { registerAppResource, RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/server';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

export const APP_VIEW_URI = 'ui://mqtt-mcp-bridge/chart.html';
export const APP_VIEW_MIME_TYPE = RESOURCE_MIME_TYPE;

/** Two levels below the package root in src/ (tsx) and in dist/ alike. */
export const APP_VIEW_FILE = new URL('../../dist/app-ui/view.html', import.meta.url);

/** What the view may reach beyond itself: nothing. */
export const APP_VIEW_UI_META = {
  csp: { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] },
  prefersBorder: true,
};

/** `_meta` for a tool whose result the view shows (both the current and the older key). */
export const APP_VIEW_TOOL_META = { ui: { resourceUri: APP_VIEW_URI }, 'ui/resourceUri': APP_VIEW_URI };

export function installAppView(server: McpServer): void {
  registerAppResource(
    server,
    'MQTT chart view',
    APP_VIEW_URI,
    {
      title: 'MQTT chart (interactive)',
      description:
        'Interactive view of a chart result: hover values, zoom a time range, switch field; refreshes through the host.',
      _meta: { ui: APP_VIEW_UI_META },
    },
    async () => {
      let html: string;
      try {
        html = await readFile(APP_VIEW_FILE, 'utf8');
      } catch (error) {
        throw new McpError(
          ErrorCode.InternalError,
          'The chart view is not built into this server (npm run build).',
          {
            cause: error instanceof Error ? error.name : 'unknown',
          },
        );
      }
      return {
        contents: [
          { uri: APP_VIEW_URI, mimeType: RESOURCE_MIME_TYPE, text: html, _meta: { ui: APP_VIEW_UI_META } },
        ],
      };
    },
  );
  // The one resource is there for the whole session.
  server.server.registerCapabilities({ resources: { listChanged: false } });
}
