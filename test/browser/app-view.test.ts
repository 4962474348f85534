/**
 * The MCP App in a real browser: the bridge serves the ui:// view (resources/list and
 * resources/read over the SDK Client); headless Chromium from Debian loads it in a minimal host
 * page that speaks the Apps protocol (ext-apps' AppBridge) and gets a chart tool result; the
 * view draws the chart, shows values on hover, zooms a dragged range and switches field by
 * calling only read-only tools through the host, and shows hostile topic text as text without
 * running it. A screenshot is taken and checked for the chart's line colour.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { build } from 'esbuild';
import type { Frame, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { READ_ONLY_TOOLS } from '../../src/app-ui/tools.js';
import { PALETTE } from '../../src/pictures/chart.js';
import { APP_VIEW_FILE, APP_VIEW_MIME_TYPE, APP_VIEW_URI } from '../../src/resources/app-view.js';
import { startBroker, waitFor, type Broker } from '../helpers/broker.js';
import { bridgeEnv, startBridge, type TestBridge } from '../helpers/bridge.js';
import { createPki, type Pki } from '../helpers/pki.js';
import { connectSpy } from '../helpers/spy.js';
import { launchChromium, type TestBrowser } from './support/chromium.js';
import { chartResult, HOSTILE_TOPIC, XSS } from './support/fixture.js';

const FROM = Date.parse('2026-11-02T06:00:00Z');

let pki: Pki;
let broker: Broker;
let bridge: TestBridge;
let chromium: TestBrowser | undefined;

before(async () => {
  assert.ok(existsSync(APP_VIEW_FILE), 'dist/app-ui/view.html is missing: npm run build');
  pki = createPki();
  broker = await startBroker({ pki });
  bridge = await startBridge(bridgeEnv(broker, pki), { start: false });
});
after(async () => {
  await chromium?.close();
  await bridge?.close();
  await broker?.stop();
});

async function viewHtml(): Promise<string> {
  const read = await bridge.client.readResource({ uri: APP_VIEW_URI });
  const [content] = read.contents;
  assert.ok(content !== undefined && 'text' in content);
  return content.text;
}

/**
 * The test host page (host/host-page.ts, bundled) loaded into the page: it takes the fixture from
 * window.hostFixture, opens the view in a frame and sends it the tool result. Returns the frame.
 */
async function openHost(page: Page): Promise<Frame> {
  const host = await build({
    entryPoints: [join(import.meta.dirname, 'host/host-page.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
  });
  await page.setContent(
    `<!doctype html><html><body><script>${host.outputFiles[0]!.text.replaceAll('</script', '<\\/script')}</script></body></html>`,
  );
  await waitFor(
    async () => (await page.evaluate(() => window.hostEvents)).includes('result-sent'),
    15_000,
    'the host sent the result',
  );
  const view = page.frames().find((f) => f !== page.mainFrame());
  assert.ok(view !== undefined, 'the view frame');
  return view;
}

describe('the ui:// view resource', () => {
  it('is listed with the MCP App MIME type and an empty CSP allow-list', async () => {
    const { resources } = await bridge.client.listResources();
    const view = resources.find((r) => r.uri === APP_VIEW_URI);
    assert.ok(view !== undefined, 'listed');
    assert.equal(view.mimeType, 'text/html;profile=mcp-app');
    assert.equal(APP_VIEW_MIME_TYPE, 'text/html;profile=mcp-app');
    assert.deepEqual((view._meta as any)?.ui?.csp, {
      connectDomains: [],
      resourceDomains: [],
      frameDomains: [],
      baseUriDomains: [],
    });
    const read = await bridge.client.readResource({ uri: APP_VIEW_URI });
    assert.equal(read.contents[0]?.mimeType, 'text/html;profile=mcp-app');
  });

  it('is one self-contained HTML file whose CSP admits only its own script and style', async (t) => {
    const html = await viewHtml();
    t.diagnostic(`view.html: ${Buffer.byteLength(html)} bytes`);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    assert.ok(csp !== undefined, 'a CSP meta element');
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1, 'one inline script');
    assert.equal(scripts[0]![1], '', 'no src attribute');
    const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
    assert.match(csp, new RegExp(`script-src ${sha(scripts[0]![2]!).replace(/[+/=]/g, '\\$&')}`));
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    assert.ok(style !== undefined && csp.includes(`style-src ${sha(style)}`));
    assert.doesNotMatch(html, /<link\b|<iframe\b|\bsrc=["']?https?:|url\(\s*["']?https?:/i);
  });
});

describe('the view in headless Chromium', () => {
  let page: Page;
  let frame: Frame;
  const calls: { name: string; args: Record<string, unknown> }[] = [];

  before(async () => {
    chromium = await launchChromium();
    page = await chromium.browser.newPage({ viewport: { width: 900, height: 700 } });
    const html = await viewHtml();
    const first = chartResult(FROM, 24, 60);
    await page.exposeFunction('hostFixture', () => ({
      html,
      args: { filter: 'plant/line2/#', sinceSeconds: 86_400, buckets: 24, width: 800, height: 400 },
      result: first.result,
    }));
    let level = 60;
    await page.exposeFunction(
      'hostCallTool',
      (name: string, args: Record<string, unknown>): CallToolResult => {
        calls.push({ name, args });
        if (!READ_ONLY_TOOLS.has(name))
          return { isError: true, content: [{ type: 'text', text: 'not allowed' }] };
        level += 20;
        const from = typeof args.from === 'string' ? Date.parse(args.from) : FROM;
        const hours =
          typeof args.to === 'string' ? Math.max(1, Math.round((Date.parse(args.to) - from) / 3600_000)) : 24;
        return chartResult(from, hours, level).result;
      },
    );
    const view = await openHost(page);
    frame = view;
    await frame.waitForSelector('#chart svg path', { timeout: 15_000 });
  });

  it('draws the chart from the tool result, hostile text shown as text only', async () => {
    const legend = await frame.evaluate(() => document.querySelector('#chart svg')?.textContent ?? '');
    assert.ok(legend.includes('plant/line2/oven · temp (°C)'), legend.slice(0, 300));
    // The topic is shown as its text, cut in the middle to the legend's bound.
    assert.ok(legend.includes('plant/line2/<img src=x onerr\u2026'), legend);
    assert.equal(await frame.evaluate(() => document.querySelectorAll('img, script[src], iframe').length), 0);
    assert.equal(await frame.evaluate(() => (window as any).__xss), undefined, 'the payload did not run');
    assert.ok(!(await page.evaluate(() => window.hostEvents)).includes('xss'));
    assert.ok(HOSTILE_TOPIC.includes(XSS));
  });

  it('its CSP stops inline handlers even if markup got in', async () => {
    const violations = await frame.evaluate(async () => {
      const seen: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.effectiveDirective));
      document.body.insertAdjacentHTML('beforeend', '<img src="x" onerror="window.__csp=1">');
      await new Promise((r) => setTimeout(r, 500));
      return seen;
    });
    assert.equal(await frame.evaluate(() => (window as any).__csp), undefined, 'inline handler blocked');
    assert.ok(
      violations.some((d) => d.startsWith('script-src')),
      `a script-src violation: ${violations.join(', ')}`,
    );
  });

  it('shows values on hover', async () => {
    const box = await page.locator('#view').boundingBox();
    assert.ok(box !== null);
    const svgBox = await frame.locator('#chart svg').boundingBox();
    assert.ok(svgBox !== null);
    await page.mouse.move(svgBox.x + svgBox.width * 0.5, svgBox.y + svgBox.height * 0.4);
    await frame.waitForSelector('#tip:not([hidden])', { timeout: 5000 });
    const tip = await frame.locator('#tip').textContent();
    assert.match(tip ?? '', /plant\/line2\/oven · temp \(°C\): [\d.]+ \(min [\d.]+, max [\d.]+, 60 values\)/);
  });

  it('takes a screenshot with the chart in it', async (t) => {
    const dir = join(tmpdir(), 'mqtt-mcp-bridge-browser');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'app-view.png');
    const shot = await page.screenshot();
    writeFileSync(file, shot);
    t.diagnostic(`screenshot: ${file}`);
    const img = PNG.sync.read(shot);
    const [r, g, b] = [0x4e, 0x79, 0xa7];
    assert.equal(PALETTE[0], '#4e79a7');
    let hits = 0;
    for (let i = 0; i < img.data.length; i += 4)
      if (Math.abs(img.data[i]! - r) + Math.abs(img.data[i + 1]! - g) + Math.abs(img.data[i + 2]! - b) < 20)
        hits++;
    assert.ok(hits > 200, `the line colour in the screenshot (${hits} pixels)`);
  });

  it('zooms into a dragged range, asking the bridge for it through a read-only tool', async () => {
    const before = calls.length;
    const svgBox = (await frame.locator('#chart svg').boundingBox())!;
    await page.mouse.move(svgBox.x + svgBox.width * 0.35, svgBox.y + svgBox.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(svgBox.x + svgBox.width * 0.6, svgBox.y + svgBox.height * 0.5, { steps: 5 });
    await page.mouse.up();
    await waitFor(() => calls.length > before, 5000, 'a zoom call');
    const call = calls.at(-1)!;
    assert.equal(call.name, 'mqtt_chart');
    assert.equal(typeof call.args.from, 'string');
    assert.equal(typeof call.args.to, 'string');
    assert.equal(call.args.sinceSeconds, undefined);
    assert.equal(call.args.width, undefined);
    const span = Date.parse(call.args.to as string) - Date.parse(call.args.from as string);
    assert.ok(span > 3 * 3600_000 && span < 9 * 3600_000, `about a quarter of the day (${span} ms)`);
    await frame.waitForSelector('#reset:not([disabled])');
    await frame.click('#reset');
    await frame.waitForSelector('#reset[disabled]');
  });

  it('switches field', async () => {
    const options = await frame.locator('#field option').allTextContents();
    assert.deepEqual(options, ['All fields', 'temp', 'humidity']);
    await frame.selectOption('#field', { label: 'humidity' });
    const text = await frame.evaluate(() => document.querySelector('#chart svg')?.textContent ?? '');
    assert.ok(text.includes('plant/line2/oven · humidity (%)'));
    assert.ok(!text.includes('· temp'), 'only humidity is drawn');
    assert.ok(text.includes('humidity (%)'), 'the value axis says the field and unit');
  });

  it('refreshes through the host, and never calls a tool that is not read-only', async () => {
    const before = calls.length;
    await frame.click('#refresh');
    await waitFor(() => calls.length > before, 5000, 'a refresh call');
    await frame.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('Updated'));
    const call = calls.at(-1)!;
    assert.equal(call.name, 'mqtt_chart');
    assert.deepEqual(call.args, { filter: 'plant/line2/#', sinceSeconds: 86_400, buckets: 24 });
    for (const c of calls) assert.ok(READ_ONLY_TOOLS.has(c.name), `${c.name} is read-only`);
    assert.ok(
      !(await page.evaluate(() => window.hostEvents)).some((e) => e === 'xss' || e.startsWith('host-error')),
    );
  });
});

describe('the view with data from the real bridge', () => {
  it('draws what mqtt_chart returned for messages through a real broker; hostile topic text stays text', async () => {
    const live = await startBridge(bridgeEnv(broker, pki));
    const spy = await connectSpy(broker, pki);
    const page = await chromium!.browser.newPage({ viewport: { width: 900, height: 700 } });
    try {
      await waitFor(() => live.app.link.connected, 5000, 'connected');
      const hostile = `plant/line9/${XSS.replaceAll('+', '').replaceAll('#', '')}`;
      for (const [topic, v] of [
        ['plant/line9/oven', 60],
        ['plant/line9/oven', 64],
        [hostile, 40],
        ['plant/line9/oven', 62],
      ] as const) {
        await spy.publish(topic, JSON.stringify({ temp: v }), { qos: 1 });
      }
      await waitFor(() => live.app.deps.store.stats(Date.now()).received >= 4, 5000, 'received');
      const args = { filter: 'plant/line9/#', sinceSeconds: 600, buckets: 12, width: 800, height: 400 };
      const result = (await live.client.callTool({ name: 'mqtt_chart', arguments: args })) as CallToolResult;
      assert.notEqual(result.isError, true);
      const html = await viewHtml();
      await page.exposeFunction('hostFixture', () => ({ html, args, result }));
      // The view's own calls go to the real bridge, and only read-only ones are let through.
      await page.exposeFunction('hostCallTool', async (name: string, a: Record<string, unknown>) =>
        READ_ONLY_TOOLS.has(name)
          ? ((await live.client.callTool({ name, arguments: a })) as CallToolResult)
          : { isError: true, content: [{ type: 'text', text: 'not allowed' }] },
      );
      const view = await openHost(page);
      // Drawn (a band of one bucket may have no height, so attached rather than visible).
      await view.waitForSelector('#chart svg path', { timeout: 15_000, state: 'attached' });
      const text = await view.evaluate(() => document.querySelector('#chart svg')?.textContent ?? '');
      assert.ok(text.includes('plant/line9/oven · temp'), text.slice(0, 300));
      assert.ok(text.includes('plant/line9/<img'), 'the hostile topic is shown as text');
      assert.equal(
        await view.evaluate(() => document.querySelectorAll('img, script[src], iframe').length),
        0,
      );
      assert.equal(await view.evaluate(() => (window as any).__xss), undefined, 'the payload did not run');
      const shot = await page.screenshot();
      const png = PNG.sync.read(shot);
      assert.ok(png.width > 0);
    } finally {
      await page.close();
      await spy.close();
      await live.close();
    }
  });
});
