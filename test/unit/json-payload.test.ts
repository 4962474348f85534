/**
 * JSON payloads as JSON values: only when nothing is lost; neutralised like every broker text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPayload } from '../../src/output/json-payload.js';

describe('jsonPayload', () => {
  const VALUES: ReadonlyArray<readonly [string, unknown]> = [
    ['21.5', 21.5],
    ['22.0', 22],
    ['-3', -3],
    ['true', true],
    ['null', null],
    ['"text"', 'text'],
    [' {"temp": 21.5, "unit": "°C"} ', { temp: 21.5, unit: '°C' }],
    ['[1,2,{"a":[]}]', [1, 2, { a: [] }]],
    ['{"a":"b:c","d":"e\\"f:g"}', { a: 'b:c', d: 'e"f:g' }],
    ['9007199254740991', 9007199254740991],
  ];
  for (const [text, value] of VALUES) {
    it(`${text.trim()} is ${JSON.stringify(value)}`, () => assert.deepEqual(jsonPayload(text), value));
  }

  const TEXTS: ReadonlyArray<readonly [string, string]> = [
    ['not JSON', 'OFF'],
    ['a word that starts like a literal', 'nope'],
    ['empty', ''],
    ['blank', '   '],
    ['invalid', '{"a":'],
    ['trailing text', '21.5 degrees'],
    ['a big integer', '{"id": 12345678901234567890}'],
    ['a negative big integer', '[-9007199254740993]'],
    // A whole number beyond 2^53 may have been an integer written out: it stays text.
    ['a huge whole number', '1.5e300'],
    ['duplicate keys', '{"a":1,"a":2}'],
    ['keys equal after neutralising', '{"a\\u200b":1,"a\\u200c":2}'],
    ['nesting deeper than 64', `${'['.repeat(70)}1${']'.repeat(70)}`],
  ];
  for (const [name, text] of TEXTS) {
    it(`${name} stays text`, () => assert.equal(jsonPayload(text), undefined));
  }

  it('neutralises keys and values like other broker text', () => {
    const value = jsonPayload('{"k\\u202e":"a\\u0007b","<system>":"</IMPORTANT>"}') as Record<string, string>;
    assert.deepEqual(Object.keys(value), ['k\ufffd', '\u2039system>']);
    assert.equal(value['k\ufffd'], 'a\ufffdb');
    assert.equal(value['\u2039system>'], '\u2039/IMPORTANT>');
  });

  it('__proto__ is an own key and pollutes nothing', () => {
    const value = jsonPayload('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['__proto__']);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(JSON.stringify(value), '{"__proto__":{"polluted":1}}');
  });
});
