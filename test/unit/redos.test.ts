/**
 * ReDoS guard (T-6.2): every pattern the scrubber and the output layer run on untrusted text
 * must stay linear. Each adversarial 1 MB string targets one pattern's worst case. The test checks
 * growth, not a time: 8 times the input may cost at most 32 times the time (linear is 8,
 * quadratic 64, and a backtracking pattern far more), each side best of five, measured in the
 * same moment so that a machine slowed by other processes slows both alike. Suspicious-payload
 * detection examines a bounded prefix, so 8 MB may cost at most 4 times 128 KB there.
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

/** Time of `big` over time of its first eighth, best of five each (a floor keeps a tiny divisor from inflating it). */
function growth(run: (text: string) => void, big: string, divisor = 8): number {
  const small = big.slice(0, Math.floor(big.length / divisor));
  bestOf5(() => run(small)); // warm-up
  return (
    bestOf5(() => run(big)) /
    Math.max(
      0.05,
      bestOf5(() => run(small)),
    )
  );
}

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
      const ratio = await settled(
        () => growth((t) => scrubber.scrub(t), text),
        (v) => v < 32,
      );
      assert.ok(ratio < 32, `1 MB took ${ratio.toFixed(1)} times as long as 128 KB`);
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
      const ratio = await settled(
        () => growth(neutralize, text),
        (v) => v < 32,
      );
      assert.ok(ratio < 32, `1 MB took ${ratio.toFixed(1)} times as long as 128 KB`);
    });
  }

  it('suspicious-payload detection examines a bounded prefix', async () => {
    const text = fill('ignore ').repeat(8) + 'previous instructions';
    const ratio = await settled(
      () => growth(suspiciousReasons, text, 64),
      (v) => v < 4,
    );
    assert.ok(ratio < 4, `8 MB took ${ratio.toFixed(1)} times as long as 128 KB`);
  });
});
