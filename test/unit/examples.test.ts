/**
 * The example topics and filters in tool descriptions are ones a new user can try in the demo:
 * each matches a topic the demo plant publishes or obeys.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { EDGE_TOPICS } from '../../demo/edge-node.js';
import { PLANT_TOPICS } from '../../demo/plant.js';
import { topicFilterProblem, topicMatches } from '../../src/mqtt/topic.js';
import { ALL_TOOLS } from '../../src/tools/index.js';

/** Quoted strings in a text that look like topics or filters ("plant/...", with a slash). */
function examples(text: string): string[] {
  return [...text.matchAll(/"([^"\s]*\/[^"\s]*)"/g)].map((m) => m[1] as string);
}

describe('examples in tool descriptions', () => {
  for (const tool of ALL_TOOLS) {
    it(`${tool.name}: every example matches a demo topic`, () => {
      const input = z.toJSONSchema(tool.input, { io: 'input' }) as {
        properties?: Record<string, { description?: string }>;
      };
      const texts = [
        tool.description,
        ...Object.values(input.properties ?? {}).map((p) => p.description ?? ''),
      ];
      const found = texts.flatMap(examples);
      for (const example of found) {
        assert.equal(topicFilterProblem(example), undefined, `${example} is a valid filter`);
        assert.ok(
          [...PLANT_TOPICS, ...EDGE_TOPICS].some((topic) => topicMatches(example, topic)),
          `${tool.name}: "${example}" matches nothing the demo publishes`,
        );
      }
    });
  }

  it('finds the examples it checks', () => {
    const all = ALL_TOOLS.flatMap((t) => examples(t.description));
    assert.ok(all.includes('plant/+/temperature'), all.join(', '));
  });
});
