/**
 * ReDoS guard (T-6.2): every pattern the scrubber and the output layer run on untrusted text
 * must stay linear. Each adversarial 1 MB string targets one pattern's worst case. The scrubber
 * (which sees every log line and error text) must finish under 50 ms, best of five; a
 * quadratic pattern takes seconds to minutes here. The output layer sees at most one message's
 * capped payload at a time, so for it the test checks the growth instead: 8 times the input
 * may cost at most 32 times the time (linear is 8, quadratic 64; the margin absorbs noise).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Scrubber } from '../../src/logging/scrub.js';
import { neutralize } from '../../src/output/neutralize.js';
import { suspiciousReasons } from '../../src/output/suspicious.js';

const MB = 1024 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

const ADVERSARIAL: Array<[string, string]> = [
  ['URL userinfo without @', fill('://a')],
  ['URL userinfo long run', `mqtts://${'a'.repeat(MB - 20)}`],
  ['Bearer followed by spaces', `Bearer${' '.repeat(MB - 6)}`],
  ['repeated Bearer', fill('Bearer ')],
  ['key=value keywords', fill('password=')],
  ['keyword and spaces', fill('password      ')],
  ['quoted value never closed', `"password":"${'a'.repeat(MB - 20)}`],
  ['JWT prefixes without dots', fill('eyJ-')],
  ['JWT with dots', fill('eyJa.')],
  ['token prefixes', fill('sk-')],
  ['PEM begin markers', fill('-----BEGIN ')],
  ['PEM key headers without end', fill('-----BEGIN PRIVATE KEY-----')],
  ['mixed separators', fill('a=b;c:d,"e"\'f\\g ')],
];

function bestOf5(run: () => void): number {
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/**
 * A pattern that backtracks is slow every time; a run slowed by other processes on a shared CI
 * machine is not. So a measurement over the bound is taken again (after a pause), up to 3 times.
 */
async function settled(measure: () => number, ok: (value: number) => boolean): Promise<number> {
  let value = measure();
  for (let attempt = 0; attempt < 2 && !ok(value); attempt++) {
    await new Promise((r) => setTimeout(r, 200));
    value = measure();
  }
  return value;
}

describe('1 MB adversarial strings stay linear', () => {
  const scrubber = new Scrubber(['a-registered-secret']);
  for (const [name, text] of ADVERSARIAL) {
    it(`scrubber: ${name}`, async () => {
      const ms = await settled(
        () => bestOf5(() => scrubber.scrub(text)),
        (v) => v < 50,
      );
      assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
    });
  }

  const OUTPUT: Array<[string, string]> = [
    ['ANSI CSI without final byte', fill('\u001b[1;2;3;')],
    ['OSC never terminated', `\u001b]${'a'.repeat(MB - 2)}`],
    ['zero-width everywhere', fill('a\u200b')],
    ['soft hyphens and variation selectors everywhere', fill('a\u00ad\ufe0f\u{E0100}')],
    ['emoji sequences with selectors and joiners', fill('👩🏽‍💻❤️‍🔥\u200d')],
    ['fake markup openers', fill('<system ')],
    ['data markers', fill('<<<END_MQTT_DATA ')],
  ];
  for (const [name, text] of OUTPUT) {
    it(`neutralize: ${name}`, async () => {
      const small = text.slice(0, MB / 8);
      bestOf5(() => neutralize(small)); // warm-up
      const ratio = await settled(
        () =>
          bestOf5(() => neutralize(text)) /
          Math.max(
            0.05,
            bestOf5(() => neutralize(small)),
          ),
        (v) => v < 32,
      );
      assert.ok(ratio < 32, `1 MB took ${ratio.toFixed(1)} times as long as 128 KB`);
    });
  }

  it('suspicious-payload detection examines a bounded prefix', async () => {
    const ms = await settled(
      () => bestOf5(() => suspiciousReasons(fill('ignore ') + 'previous instructions')),
      (v) => v < 50,
    );
    assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
  });
});
