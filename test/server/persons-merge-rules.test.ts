import { afterAll, beforeAll, describe, it } from 'vitest';
import { alias, at, identify, pageview, type SentEvent } from '../helpers/capture.ts';
import { ALREADY, runMergeCase, type MergeCase } from '../helpers/persons.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Identity merge rules, checked against posthog-semantics.md §2.6: one table row per case of $identify,
 * $create_alias and $merge_dangerously, each run on a fresh project by `runMergeCase` (test/helpers/persons.ts).
 * Events go over real HTTP to `/batch` with the project token; each request is a separate `sendBatch`
 * where send order is the point. Outcomes are read back through GraphQL only. Every expected value below
 * is worked out by hand from the specification.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

// ---------------------------------------------------------------------------------------------
// The merge table
// ---------------------------------------------------------------------------------------------

/** The event with more properties (e.g. posthog-js's `$device_id`, which is not an anonymous id for merging). */
function withProperties(event: SentEvent, extra: Record<string, unknown>): SentEvent {
  return { ...event, properties: { ...event.properties, ...extra } };
}

const MERGE_CASES: MergeCase[] = [
  {
    name: 'same id: an $identify naming itself as the anonymous id merges nothing and identifies no one',
    steps: [[identify('self', 'self', 1, { $set: { email: 'self@example.com' } })]],
    persons: [{ ids: ['self'], identified: false, props: { email: 'self@example.com' } }],
  },
  {
    name: 'same id: a $create_alias of itself (posthog-node self-alias) merges nothing',
    steps: [[pageview('self', 1)], [alias('self', 'self', 2)]],
    persons: [{ ids: ['self'], identified: false, keepsIdOf: { distinctId: 'self', step: 0 } }],
  },
  {
    name: 'neither id has a person: $identify creates one identified person with both ids and the $set/$set_once',
    steps: [[identify('user', 'anon', 3, { $set: { email: 'user@example.com' }, $set_once: { first_plan: 'free' } })]],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { email: 'user@example.com', first_plan: 'free' }, createdAt: at(3) }],
  },
  {
    name: 'neither id has a person: $create_alias creates one identified person with both ids',
    steps: [[alias('user', 'legacy-id', 1)]],
    persons: [{ ids: ['legacy-id', 'user'], identified: true }],
  },
  {
    name: 'neither id has a person: $merge_dangerously creates one identified person with both ids',
    steps: [[alias('user', 'other-id', 1, '$merge_dangerously')]],
    persons: [{ ids: ['other-id', 'user'], identified: true }],
  },
  {
    name: 'only the distinct_id has a person: the anonymous id joins it',
    steps: [[pageview('user', 1, { $set: { plan: 'pro' } })], [identify('user', 'anon', 2)]],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { plan: 'pro' }, keepsIdOf: { distinctId: 'user', step: 0 } }],
  },
  {
    name: 'only the anonymous id has a person: the distinct_id joins it',
    steps: [[pageview('anon', 1, { $set: { color: 'red' } })], [identify('user', 'anon', 2, { $set: { email: 'u@example.com' } })]],
    persons: [
      { ids: ['anon', 'user'], identified: true, props: { color: 'red', email: 'u@example.com' }, keepsIdOf: { distinctId: 'anon', step: 0 } },
    ],
  },
  {
    name: '$create_alias where only the alias has a person: the distinct_id joins it',
    steps: [[pageview('old-id', 1)], [alias('new-id', 'old-id', 2)]],
    persons: [{ ids: ['new-id', 'old-id'], identified: true, keepsIdOf: { distinctId: 'old-id', step: 0 } }],
  },
  {
    name: '$create_alias where only the distinct_id has a person: the alias joins it',
    steps: [[pageview('main', 1)], [alias('main', 'crm-123', 2)]],
    persons: [{ ids: ['crm-123', 'main'], identified: true, keepsIdOf: { distinctId: 'main', step: 0 } }],
  },
  {
    name: 'exactly one has a person, and it is identified: the new id still joins it, without a warning',
    steps: [[identify('user', 'anon', 1)], [alias('new-device', 'user', 2)]],
    persons: [{ ids: ['anon', 'new-device', 'user'], identified: true, keepsIdOf: { distinctId: 'user', step: 0 } }],
  },
  {
    name: 'both ids already on the same person: nothing merges and nothing warns; the $set still applies',
    steps: [
      [identify('user', 'anon', 1, { $set: { plan: 'a' } })],
      [identify('user', 'anon', 2, { $set: { plan: 'b' } })],
      [alias('user', 'anon', 3), alias('anon', 'user', 4)],
    ],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { plan: 'b' }, keepsIdOf: { distinctId: 'user', step: 0 } }],
  },
  {
    name: 'different persons, anonymous source: merged into the target; target wins conflicts; earlier createdAt; source person gone',
    steps: [
      [pageview('anon', 1, { $set: { color: 'red', plan: 'free' } })],
      [pageview('user', 5, { $set: { plan: 'pro', email: 'u@example.com' } })],
      [identify('user', 'anon', 6)],
    ],
    persons: [
      {
        ids: ['anon', 'user'],
        identified: true,
        props: { color: 'red', plan: 'pro', email: 'u@example.com' },
        createdAt: at(1),
        keepsIdOf: { distinctId: 'user', step: 1 },
      },
    ],
    gone: [{ distinctId: 'anon', step: 1 }],
  },
  {
    name: 'different persons: the merging event’s own $set/$set_once/$unset apply after the merge',
    steps: [
      [pageview('anon', 1, { $set: { color: 'red', plan: 'free', tmp: 1 } })],
      [pageview('user', 2, { $set: { plan: 'pro' } })],
      [identify('user', 'anon', 3, { $set: { plan: 'enterprise' }, $set_once: { color: 'blue', first: 'x' }, $unset: ['tmp'] })],
    ],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { plan: 'enterprise', color: 'red', first: 'x' }, absent: ['tmp'] }],
  },
  {
    name: 'different persons merged by $create_alias (alias side anonymous): target wins conflicts',
    steps: [
      [pageview('alias-id', 1, { $set: { a: 1, shared: 'alias' } })],
      [pageview('main', 2, { $set: { shared: 'main' } })],
      [alias('main', 'alias-id', 3)],
    ],
    persons: [{ ids: ['alias-id', 'main'], identified: true, props: { a: 1, shared: 'main' }, createdAt: at(1), keepsIdOf: { distinctId: 'main', step: 1 } }],
    gone: [{ distinctId: 'alias-id', step: 1 }],
  },
  {
    name: 'a returning user on a new device: the second anonymous person folds into the identified one',
    steps: [[pageview('anon-1', 1)], [identify('user', 'anon-1', 2)], [pageview('anon-2', 3, { $set: { device: 'phone' } })], [identify('user', 'anon-2', 4)]],
    persons: [{ ids: ['anon-1', 'anon-2', 'user'], identified: true, props: { device: 'phone' }, createdAt: at(1), keepsIdOf: { distinctId: 'user', step: 1 } }],
    gone: [{ distinctId: 'anon-2', step: 2 }],
  },
  {
    name: 'different persons, identified source, $identify: refused with cannot_merge_already_identified; the event goes to the target',
    steps: [
      [identify('other-user', 'other-anon', 1, { $set: { plan: 'other' } })],
      [pageview('user', 2, { $set: { plan: 'mine' } })],
      [identify('user', 'other-user', 3, { $set: { email: 'user@example.com' } })],
    ],
    persons: [
      { ids: ['other-anon', 'other-user'], identified: true, props: { plan: 'other' }, absent: ['email'] },
      // Every merge path marks the target identified, the refused one too (§2.6).
      { ids: ['user'], identified: true, props: { plan: 'mine', email: 'user@example.com' }, keepsIdOf: { distinctId: 'user', step: 1 } },
    ],
    warnings: [{ type: ALREADY, distinctId: 'user', step: 2 }],
  },
  {
    name: 'different persons, identified source, $create_alias: refused with cannot_merge_already_identified',
    steps: [[identify('a-user', 'a-anon', 1)], [pageview('main', 2)], [alias('main', 'a-user', 3)]],
    persons: [
      { ids: ['a-anon', 'a-user'], identified: true },
      { ids: ['main'], identified: true },
    ],
    warnings: [{ type: ALREADY, distinctId: 'main', step: 2 }],
  },
  {
    name: 'different persons, identified source, $merge_dangerously: merged anyway',
    steps: [
      [identify('a-user', 'a-anon', 1, { $set: { plan: 'old', only_a: 1 } })],
      [identify('main', 'main-anon', 2, { $set: { plan: 'new' } })],
      [alias('main', 'a-user', 3, '$merge_dangerously')],
    ],
    persons: [
      {
        ids: ['a-anon', 'a-user', 'main', 'main-anon'],
        identified: true,
        props: { plan: 'new', only_a: 1 },
        createdAt: at(1),
        keepsIdOf: { distinctId: 'main', step: 1 },
      },
    ],
    gone: [{ distinctId: 'a-user', step: 1 }],
  },
  {
    name: 'issue #11873: identify Alice/a1, Bob/b1, then Alice with anonymous b1 is not merged',
    steps: [
      [pageview('a1', 1)],
      [identify('Alice', 'a1', 2, { $set: { name: 'Alice' } })],
      [pageview('b1', 3)],
      [identify('Bob', 'b1', 4, { $set: { name: 'Bob' } })],
      [identify('Alice', 'b1', 5)],
    ],
    persons: [
      { ids: ['Alice', 'a1'], identified: true, props: { name: 'Alice' } },
      { ids: ['Bob', 'b1'], identified: true, props: { name: 'Bob' } },
    ],
    warnings: [{ type: ALREADY, distinctId: 'Alice', step: 4 }],
  },
  {
    name: '$identify without $anon_distinct_id neither merges nor identifies (even with $device_id)',
    steps: [[pageview('anon', 1)], [withProperties(identify('user', undefined, 2, { $set: { email: 'u@example.com' } }), { $device_id: 'anon' })]],
    persons: [
      { ids: ['anon'], identified: false, absent: ['email'] },
      { ids: ['user'], identified: false, props: { email: 'u@example.com' } },
    ],
  },
  {
    name: '$identify without $anon_distinct_id on an existing person only applies its properties',
    steps: [[pageview('u', 1)], [identify('u', undefined, 2, { $set: { email: 'u@example.com' } })]],
    persons: [{ ids: ['u'], identified: false, props: { email: 'u@example.com' }, keepsIdOf: { distinctId: 'u', step: 0 } }],
  },
  {
    name: 'an identify merge and plain events in one request are processed in order',
    steps: [
      [
        pageview('anon', 1, { $set: { step: 'anon' } }),
        identify('user', 'anon', 2, { $set: { step: 'identify' } }),
        pageview('user', 3, { $set: { step: 'after' } }),
        pageview('anon', 4, { $set_once: { first_seen: 'anon' } }),
      ],
    ],
    persons: [{ ids: ['anon', 'user'], identified: true, props: { step: 'after', first_seen: 'anon' }, createdAt: at(1) }],
  },
];

describe('merge rules (§2.6), one row per case', () => {
  it.each(MERGE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runMergeCase(server, c);
  });
});
