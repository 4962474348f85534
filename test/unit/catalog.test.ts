/**
 * The operator's topic catalog: YAML or JSON (JSON as it is), every problem listed at once, the
 * most specific entry wins, and publish values checked against JSON Schema 2020-12 with the failed
 * constraint named.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCatalog, type Catalog } from '../../src/catalog/catalog.js';

const load = (text: string): Catalog => {
  const parsed = parseCatalog(Buffer.from(text), '/etc/catalog');
  if ('problems' in parsed) throw new Error(parsed.problems.join('\n'));
  return parsed.catalog;
};
const problems = (text: string): string[] => {
  const parsed = parseCatalog(Buffer.from(text), '/etc/catalog');
  return 'problems' in parsed ? parsed.problems : [];
};

const ISSUE_EXAMPLE = JSON.stringify({
  topics: [
    {
      filter: 'plant/+/temp',
      description: 'Line temperature',
      unit: '°C',
      schema: { type: 'number', minimum: -40, maximum: 150 },
    },
    {
      filter: 'plant/+/pump/set',
      description: 'Pump command',
      publish: { schema: { type: 'string', enum: ['on', 'off'] }, confirm: true },
    },
  ],
});

describe('loading', () => {
  it('takes the JSON of the issue as it is, and the same in YAML', () => {
    const json = load(ISSUE_EXAMPLE);
    const yaml = load(
      [
        'topics:',
        '  - filter: plant/+/temp',
        '    description: Line temperature',
        '    unit: °C',
        '    schema: { type: number, minimum: -40, maximum: 150 }',
        '  - filter: plant/+/pump/set',
        '    description: Pump command',
        '    publish:',
        '      schema: { type: string, enum: [on, off] }',
        '      confirm: true',
      ].join('\n'),
    );
    assert.deepEqual(json.json, yaml.json);
    assert.deepEqual(json.about('plant/l1/temp'), { description: 'Line temperature', unit: '°C' });
  });

  it('the example in the repository loads', () => {
    const parsed = parseCatalog(readFileSync('demo/catalog.json'), 'demo/catalog.json');
    assert.ok('catalog' in parsed, JSON.stringify(parsed));
  });

  it('lists every problem, naming the entry and the field, quoting no content', () => {
    const found = problems(
      JSON.stringify({
        topics: [
          { filter: 'a/#/b', unit: 5, schema: { type: 'nonsense' }, extra: 'secret-ish' },
          { filter: 'ok', publish: { schema: { minimum: 'x' }, confirm: 'yes' } },
          { description: 'no filter' },
        ],
      }),
    );
    const text = found.join('\n');
    for (const expected of [
      /entry 1 \(unit\): Invalid input: expected string/,
      /entry 1: Unrecognized key: "extra"/,
      /entry 1: filter: filter may use # only as a whole last level/,
      /entry 1: schema is not a valid JSON Schema \(2020-12\)/,
      /entry 2 \(publish\.confirm\)/,
      /entry 2: publish\.schema is not a valid JSON Schema/,
      /entry 3 \(filter\)/,
    ])
      assert.match(text, expected);
    assert.doesNotMatch(text, /secret-ish/);
    assert.deepEqual(problems('{not json'), [
      'MCP_TOPIC_CATALOG_FILE: /etc/catalog is not valid YAML or JSON (line 1)',
    ]);
    assert.match(problems('[1, 2]')[0] ?? '', /must hold an object with a "topics" list/);
    assert.match(problems('topics: []\nfoo: 1\n')[0] ?? '', /and nothing else/);
  });
});

describe('matching and publish values', () => {
  const catalog = load(
    JSON.stringify({
      topics: [
        { filter: 'plant/#', description: 'Plant' },
        {
          filter: 'plant/+/speed/set',
          description: 'Speed',
          unit: 'rpm',
          publish: { schema: { type: 'number', minimum: 0, maximum: 60 } },
        },
        {
          filter: 'plant/l2/speed/set',
          description: 'Line 2 speed',
          publish: { schema: { type: 'number', maximum: 40 }, confirm: true },
        },
        {
          filter: 'plant/+/mode/set',
          publish: {
            schema: {
              type: 'object',
              properties: { mode: { enum: ['auto', 'manual'] } },
              required: ['mode'],
            },
          },
        },
      ],
    }),
  );

  it('the entry with the most literal levels wins', () => {
    assert.equal(catalog.entryFor('plant/l1/speed/set')?.description, 'Speed');
    assert.equal(catalog.entryFor('plant/l2/speed/set')?.description, 'Line 2 speed');
    assert.equal(catalog.entryFor('plant/l1/temp')?.description, 'Plant');
    assert.equal(catalog.entryFor('office/x'), undefined);
    assert.equal(catalog.needsConfirmation('plant/l2/speed/set'), true);
    assert.equal(catalog.needsConfirmation('plant/l1/speed/set'), false);
  });

  it('a value inside the schema passes; outside, the failed constraint is named', () => {
    assert.equal(catalog.publishProblem('plant/l1/speed/set', Buffer.from('42')), undefined);
    assert.equal(
      catalog.publishProblem('plant/l1/speed/set', Buffer.from('80')),
      'the payload must be <= 60 (maximum)',
    );
    assert.equal(
      catalog.publishProblem('plant/l1/speed/set', Buffer.from('fast')),
      'the payload must be number (type)',
    );
    assert.equal(
      catalog.publishProblem('plant/l2/speed/set', Buffer.from('50')),
      'the payload must be <= 40 (maximum)',
    );
    assert.match(
      catalog.publishProblem('plant/l1/mode/set', Buffer.from('{"mode":"turbo"}')) ?? '',
      /^the payload at \/mode must be equal to one of the allowed values \(enum\): \["auto","manual"\]$/,
    );
    assert.equal(
      catalog.publishProblem('plant/l1/temp', Buffer.from('anything')),
      undefined,
      'no publish schema',
    );
  });
});
