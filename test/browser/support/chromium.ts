/**
 * Debian's Chromium (/usr/bin/chromium, installed by scripts/install-browser-deps.sh) driven by
 * playwright-core, which never downloads a browser. Headless, with the flags that keep it off
 * the network (no background networking, component updates or sync) and a fresh profile per
 * launch (Playwright's own temporary one). The browser process is stopped by its PID, also when
 * a test fails.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  readonly browser: Browser;
  readonly pid: number;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run sh scripts/install-browser-deps.sh`);
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const pid = server.process().pid;
  if (pid === undefined) throw new Error('chromium started without a pid');
  const browser = await chromium.connect(server.wsEndpoint());
  return {
    browser,
    pid,
    close: async () => {
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone: closed above
      }
    },
  };
}
