/**
 * The topic policy: which topics the agent may read and write. Built once from configuration;
 * no tool can change it. Deny wins over allow.
 *
 * - A topic is readable when a read rule matches it and no deny rule does; the same for writes.
 * Refusals never repeat the caller's topic or filter: an error text is scrubbed for secrets, and
 * echoing input would let a caller tell a right guess of a secret from a wrong one.
 *
 * - A request filter (read, wait, subscribe) is allowed only when one read rule covers
 *   everything the filter can match (a `+` rule does not admit a `#` request) and no deny rule
 *   covers the whole filter. Where a request only partly overlaps a deny rule, the denied topics
 *   never reach the agent: every message is checked per topic on ingest.
 */
import { BridgeError } from '../errors.js';
import { filterCovers, filtersOverlap, quoteTopic, topicMatches } from '../mqtt/topic.js';

export interface PolicyRules {
  readonly read: readonly string[];
  readonly write: readonly string[];
  readonly deny: readonly string[];
}

export class TopicPolicy {
  constructor(readonly rules: PolicyRules) {}

  get readOnly(): boolean {
    return this.rules.write.length === 0;
  }

  canRead(topic: string): boolean {
    return matchesAny(this.rules.read, topic) && !matchesAny(this.rules.deny, topic);
  }

  canWrite(topic: string): boolean {
    return matchesAny(this.rules.write, topic) && !matchesAny(this.rules.deny, topic);
  }

  /** Why the agent may not read with this filter, or undefined when it may. */
  readFilterProblem(filter: string): string | undefined {
    if (!this.rules.read.some((rule) => filterCovers(rule, filter))) {
      return `the filter is outside the readable topics (${describe(this.rules.read)}); use a filter inside one of them`;
    }
    if (this.rules.deny.some((rule) => filterCovers(rule, filter))) {
      return 'the filter is inside a denied area; those topics are never readable';
    }
    return undefined;
  }

  /** Why the agent may not publish to this topic, or undefined when it may. */
  writeTopicProblem(topic: string): string | undefined {
    if (this.readOnly) return 'the bridge is read-only: MCP_WRITE_TOPICS is empty';
    if (matchesAny(this.rules.deny, topic)) return 'the topic is denied; it can never be published to';
    if (!matchesAny(this.rules.write, topic)) {
      return `the topic is outside the writable topics (${describe(this.rules.write)})`;
    }
    return undefined;
  }

  assertReadFilter(filter: string): void {
    const problem = this.readFilterProblem(filter);
    if (problem !== undefined) throw new BridgeError('POLICY_DENIED', problem);
  }

  assertWriteTopic(topic: string): void {
    const problem = this.writeTopicProblem(topic);
    if (problem !== undefined) throw new BridgeError('POLICY_DENIED', problem);
  }

  /** True when the filter may match a denied topic (results are then filtered per topic). */
  overlapsDeny(filter: string): boolean {
    return this.rules.deny.some((rule) => filtersOverlap(rule, filter));
  }
}

function matchesAny(rules: readonly string[], topic: string): boolean {
  for (const rule of rules) if (topicMatches(rule, topic)) return true;
  return false;
}

function describe(rules: readonly string[]): string {
  if (rules.length === 0) return 'none';
  const shown = rules.slice(0, 10).map(quoteTopic);
  return rules.length > 10 ? `${shown.join(', ')} and ${rules.length - 10} more` : shown.join(', ');
}
