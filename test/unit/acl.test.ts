import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BridgeError } from '../../src/errors.js';
import { TopicPolicy, type PolicyRules } from '../../src/policy/acl.js';

const PLANT: PolicyRules = {
  read: ['plant/#', 'office/+/temp', '$SYS/broker/#'],
  write: ['plant/+/cmd', 'plant/line1/#'],
  deny: ['plant/secret/#', 'plant/+/password', 'plant/line1/safety'],
};
const plant = new TopicPolicy(PLANT);

describe('TopicPolicy.canRead / canWrite', () => {
  const CASES: ReadonlyArray<{ topic: string; read: boolean; write: boolean }> = [
    { topic: 'plant', read: true, write: false },
    { topic: 'plant/line1/temp', read: true, write: true },
    { topic: 'plant/line2/cmd', read: true, write: true },
    { topic: 'plant/line2/status', read: true, write: false },
    { topic: 'plant/secret', read: false, write: false },
    { topic: 'plant/secret/x/y', read: false, write: false },
    { topic: 'plant/line2/password', read: false, write: false },
    { topic: 'plant/line1/password', read: false, write: false },
    { topic: 'plant/line1/safety', read: false, write: false },
    { topic: 'plant/line1/safety/sub', read: true, write: true },
    { topic: 'office/1/temp', read: true, write: false },
    { topic: 'office/1/humidity', read: false, write: false },
    { topic: 'office/temp', read: false, write: false },
    { topic: 'garden', read: false, write: false },
    { topic: '$SYS/broker/uptime', read: true, write: false },
    { topic: '$SYS/other', read: false, write: false },
    { topic: 'Plant/line1/temp', read: false, write: false },
  ];
  for (const c of CASES) {
    it(`'${c.topic}': read ${c.read}, write ${c.write}`, () => {
      assert.equal(plant.canRead(c.topic), c.read);
      assert.equal(plant.canWrite(c.topic), c.write);
    });
  }
});

describe('$ topics need an explicit $ rule', () => {
  const CASES: ReadonlyArray<{ rules: PolicyRules; topic: string; read: boolean; write: boolean }> = [
    { rules: { read: ['#'], write: ['#'], deny: [] }, topic: '$SYS/x', read: false, write: false },
    { rules: { read: ['+/#'], write: ['+/+'], deny: [] }, topic: '$SYS/x', read: false, write: false },
    {
      rules: { read: ['#', '$SYS/#'], write: ['$SYS/x'], deny: [] },
      topic: '$SYS/x',
      read: true,
      write: true,
    },
    { rules: { read: ['#'], write: ['#'], deny: [] }, topic: 'a/$SYS', read: true, write: true },
    // A `#` deny does not cover `$` topics either; only an explicit `$` deny does.
    { rules: { read: ['$SYS/#'], write: [], deny: ['#'] }, topic: '$SYS/x', read: true, write: false },
    { rules: { read: ['$SYS/#'], write: [], deny: ['$SYS/+'] }, topic: '$SYS/x', read: false, write: false },
  ];
  for (const c of CASES) {
    it(`read ${JSON.stringify(c.rules.read)} deny ${JSON.stringify(c.rules.deny)}: '${c.topic}'`, () => {
      const policy = new TopicPolicy(c.rules);
      assert.equal(policy.canRead(c.topic), c.read);
      assert.equal(policy.canWrite(c.topic), c.write);
    });
  }
});

describe('TopicPolicy.readFilterProblem', () => {
  const CASES: ReadonlyArray<{ filter: string; problem: RegExp | undefined; rules?: PolicyRules }> = [
    { filter: 'plant/#', problem: undefined },
    { filter: 'plant', problem: undefined },
    { filter: 'plant/+/temp', problem: undefined },
    { filter: 'plant/line1/#', problem: undefined },
    { filter: 'office/+/temp', problem: undefined },
    { filter: 'office/3/temp', problem: undefined },
    { filter: '$SYS/broker/+', problem: undefined },
    // Partial overlap with a deny rule is allowed; denied topics are filtered per message.
    { filter: 'plant/+/password', problem: /inside a denied area/ },
    { filter: 'plant/line1/password', problem: /inside a denied area/ },
    { filter: 'plant/secret/#', problem: /inside a denied area/ },
    { filter: 'plant/secret/a/+', problem: /inside a denied area/ },
    { filter: 'plant/secret', problem: /inside a denied area/ },
    { filter: 'plant/line1/safety', problem: /inside a denied area/ },
    // Outside every read rule.
    { filter: '#', problem: /outside the readable topics/ },
    { filter: '+/#', problem: /outside the readable topics/ },
    { filter: 'office/#', problem: /outside the readable topics/ },
    { filter: 'office/+/+', problem: /outside the readable topics/ },
    { filter: 'garden/x', problem: /outside the readable topics/ },
    { filter: '$SYS/#', problem: /outside the readable topics/ },
    // The request must fit inside ONE rule, even if two rules together would cover it.
    {
      filter: 'x/#',
      problem: /outside the readable topics/,
      rules: { read: ['x', 'x/+/#'], write: [], deny: [] },
    },
    { filter: '+', problem: /outside the readable topics/, rules: { read: ['a', 'b'], write: [], deny: [] } },
    // A `+` rule does not admit a `#` request.
    { filter: 'a/#', problem: /outside the readable topics/, rules: { read: ['a/+'], write: [], deny: [] } },
    { filter: 'a/+', problem: undefined, rules: { read: ['a/+'], write: [], deny: [] } },
    // A partly denied request is allowed.
    { filter: '#', problem: undefined, rules: { read: ['#'], write: [], deny: ['a/#'] } },
    { filter: 'a/+', problem: undefined, rules: { read: ['#'], write: [], deny: ['a/secret'] } },
    { filter: 'a/#', problem: /inside a denied area/, rules: { read: ['#'], write: [], deny: ['a/#'] } },
    { filter: 'a/+', problem: /inside a denied area/, rules: { read: ['#'], write: [], deny: ['+/+'] } },
    {
      filter: 'x',
      problem: /outside the readable topics \(none\)/,
      rules: { read: [], write: [], deny: [] },
    },
  ];
  for (const c of CASES) {
    const rules = c.rules ?? PLANT;
    it(`'${c.filter}' with read ${JSON.stringify(rules.read)}: ${c.problem === undefined ? 'allowed' : 'refused'}`, () => {
      const policy = new TopicPolicy(rules);
      const problem = policy.readFilterProblem(c.filter);
      if (c.problem === undefined) {
        assert.equal(problem, undefined);
        assert.doesNotThrow(() => policy.assertReadFilter(c.filter));
      } else {
        assert.match(problem ?? '<allowed>', c.problem);
        // The caller's filter is never repeated (see acl.ts); only the operator's rules are listed.
        const isRule = [...rules.read, ...rules.deny].includes(c.filter);
        if (!isRule)
          assert.ok(!problem?.includes(JSON.stringify(c.filter)), 'the message repeats the filter');
        assert.throws(
          () => policy.assertReadFilter(c.filter),
          (error: unknown) => error instanceof BridgeError && error.code === 'POLICY_DENIED',
        );
      }
    });
  }

  it('overlapsDeny reports partial overlaps', () => {
    assert.equal(plant.overlapsDeny('plant/#'), true);
    assert.equal(plant.overlapsDeny('plant/+/temp'), true, 'plant/secret/temp');
    assert.equal(plant.overlapsDeny('plant/line2/temp'), false);
    assert.equal(plant.overlapsDeny('plant/line1/+'), true);
    assert.equal(plant.overlapsDeny('office/#'), false);
  });

  it('lists at most 10 rules in the message', () => {
    const read = Array.from({ length: 12 }, (_, i) => `r${i}/#`);
    const problem = new TopicPolicy({ read, write: [], deny: [] }).readFilterProblem('x');
    assert.match(problem ?? '', /"r9\/#" and 2 more/);
    assert.doesNotMatch(problem ?? '', /r10/);
  });
});

describe('TopicPolicy.writeTopicProblem', () => {
  const CASES: ReadonlyArray<{ rules: PolicyRules; topic: string; problem: RegExp | undefined }> = [
    { rules: PLANT, topic: 'plant/line2/cmd', problem: undefined },
    { rules: PLANT, topic: 'plant/line1/a/b', problem: undefined },
    { rules: PLANT, topic: 'plant/line2/status', problem: /outside the writable topics/ },
    { rules: PLANT, topic: 'office/1/temp', problem: /outside the writable topics/ },
    { rules: PLANT, topic: 'plant/line1/safety', problem: /is denied/ },
    { rules: PLANT, topic: 'plant/line1/password', problem: /is denied/ },
    { rules: PLANT, topic: 'plant/secret/cmd', problem: /is denied/ },
    { rules: { read: ['#'], write: [], deny: [] }, topic: 'a', problem: /read-only/ },
    { rules: { read: [], write: [], deny: ['a'] }, topic: 'a', problem: /read-only/ },
    { rules: { read: [], write: ['#'], deny: [] }, topic: '$SYS/x', problem: /outside the writable topics/ },
    { rules: { read: [], write: ['$SYS/x'], deny: [] }, topic: '$SYS/x', problem: undefined },
  ];
  for (const c of CASES) {
    it(`'${c.topic}' with write ${JSON.stringify(c.rules.write)}: ${c.problem === undefined ? 'allowed' : 'refused'}`, () => {
      const policy = new TopicPolicy(c.rules);
      const problem = policy.writeTopicProblem(c.topic);
      if (c.problem === undefined) {
        assert.equal(problem, undefined);
        assert.doesNotThrow(() => policy.assertWriteTopic(c.topic));
      } else {
        assert.match(problem ?? '<allowed>', c.problem);
        assert.throws(
          () => policy.assertWriteTopic(c.topic),
          (error: unknown) => error instanceof BridgeError && error.code === 'POLICY_DENIED',
        );
      }
    });
  }

  it('readOnly follows the write list', () => {
    assert.equal(new TopicPolicy({ read: ['#'], write: [], deny: [] }).readOnly, true);
    assert.equal(plant.readOnly, false);
  });
});
