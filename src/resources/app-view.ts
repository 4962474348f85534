/**
 * The MCP App's view as a `ui://` resource (the io.modelcontextprotocol/ui extension): one
 * self-contained HTML file, built by `npm run build` into dist/app-ui/view.html, served with the
 * `text/html;profile=mcp-app` MIME type and an empty CSP allow-list (no network origins, no
 * external resources, no frames). A tool opens it with `_meta.ui.resourceUri` = APP_VIEW_URI.
 * resources/resources.ts lists and reads it with the bridge's other resources. The only importer
 * of @modelcontextprotocol/ext-apps on the server.
 */
import { readFile } from 'node:fs/promises';
import { RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/server';
import {
  ErrorCode,
  McpError,
  type ReadResourceResult,
  type Resource,
} from '@modelcontextprotocol/sdk/types.js';

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

/** The view as resources/list shows it. */
export const APP_VIEW_RESOURCE: Resource = {
  uri: APP_VIEW_URI,
  name: 'MQTT chart view',
  title: 'MQTT chart (interactive)',
  description:
    'Interactive view of a chart result: hover values, zoom a time range, switch field; refreshes through the host.',
  mimeType: RESOURCE_MIME_TYPE,
  _meta: { ui: APP_VIEW_UI_META },
};

/** resources/read of the view: the built HTML file. */
export async function readAppView(): Promise<ReadResourceResult> {
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
}
