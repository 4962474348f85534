/**
 * Collection filters: coverage from what the broker granted on the current connection, and
 * filters that belong to the principal that added them. The broker link here is a small
 * stand-in that records what it was asked and grants what the test says (the link itself is
 * tested against real brokers in test/integration and test/interop).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrokerLink } from '../../src/bridge.js';
import type { BridgeError } from '../../src/errors.js';
import { Subscriptions } from '../../src/subscriptions.js';

function fakeLink() {
  const granted = new Map<string, number>();
  const calls: string[] = [];
  const link = {
    connected: true,
    grantedAt: (filter: string) => granted.get(filter),
    subscribe: async (filter: string, options?: { live?: boolean }) => {
      calls.push(`sub ${filter}${options?.live === true ? ' live' : ''}`);
    },
    unsubscribe: async (filter: string) => {
      calls.push(`unsub ${filter}`);
    },
  } as unknown as BrokerLink;
  return { link, granted, calls };
}

const LIMITS = { total: 5, perPrincipal: 2 };

describe('coverage', () => {
  it('is full only once the broker granted a covering filter, and says since when', () => {
    const { link, granted } = fakeLink();
    const subs = new Subscriptions(link, ['plant/#'], LIMITS);
    assert.deepEqual(subs.coverage('plant/line1/temp'), { coverage: 'pending' });
    granted.set('plant/#', 1234);
    assert.deepEqual(subs.coverage('plant/line1/temp'), { coverage: 'full', since: 1234 });
    assert.deepEqual(subs.coverage('#'), { coverage: 'partial' });
    assert.deepEqual(subs.coverage('office/#'), { coverage: 'none' });
    granted.clear(); // the connection is gone
    assert.deepEqual(subs.coverage('plant/#'), { coverage: 'pending' });
  });

  it('a granted overlapping filter makes it partial even when a covering one is not granted', () => {
    const { link, granted } = fakeLink();
    const subs = new Subscriptions(link, ['plant/#', 'plant/line1/#'], LIMITS);
    granted.set('plant/line1/#', 1);
    assert.equal(subs.coverage('plant/+/temp').coverage, 'partial');
    assert.equal(subs.coverage('plant/line1/temp').coverage, 'full');
  });
});

describe('filters added by principals', () => {
  it('each principal sees and removes only its own; others are a count; one broker subscription', async () => {
    const { link, calls } = fakeLink();
    const subs = new Subscriptions(link, ['plant/#'], LIMITS);
    assert.equal(await subs.add('office/#', 'alice'), true);
    assert.equal(await subs.add('office/#', 'alice'), false);
    assert.equal(await subs.add('office/#', 'bob'), true);
    assert.equal(await subs.add('plant/#', 'bob'), false, 'configured');
    assert.deepEqual(calls, ['sub office/#']);
    assert.deepEqual(subs.list('alice'), {
      filters: [
        { filter: 'plant/#', source: 'configured' },
        { filter: 'office/#', source: 'agent' },
      ],
      others: 0,
    });
    await subs.add('lab/#', 'bob');
    assert.equal(subs.list('alice').others, 1);
    assert.deepEqual(
      subs.list('alice').filters.map((f) => f.filter),
      ['plant/#', 'office/#'],
    );
    await assert.rejects(
      subs.remove('lab/#', 'alice'),
      (e: unknown) => (e as BridgeError).code === 'NOT_FOUND',
    );
    await subs.remove('office/#', 'alice');
    assert.deepEqual(calls, ['sub office/#', 'sub lab/#'], 'bob still collects office/#');
    await subs.remove('office/#', 'bob');
    assert.deepEqual(calls.at(-1), 'unsub office/#');
    await assert.rejects(
      subs.remove('plant/#', 'bob'),
      (e: unknown) => (e as BridgeError).code === 'POLICY_DENIED',
    );
  });

  it('a principal cannot use up the shared limit: its own quota comes first', async () => {
    const { link } = fakeLink();
    const subs = new Subscriptions(link, ['plant/#'], LIMITS);
    await subs.add('a/#', 'mallory');
    await subs.add('b/#', 'mallory');
    await assert.rejects(subs.add('c/#', 'mallory'), /MCP_MAX_SUBSCRIPTIONS_PER_CLIENT/);
    assert.equal(await subs.add('d/#', 'alice'), true);
    await subs.add('e/#', 'alice');
    await assert.rejects(subs.add('f/#', 'carol'), /MCP_MAX_SUBSCRIPTIONS\)/);
    assert.equal(
      await subs.add('a/#', 'carol'),
      true,
      'joining an existing filter takes no broker subscription',
    );
  });
});
