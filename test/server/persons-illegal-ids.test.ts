import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alias, eventByUuid, identify, ingestionWarnings, pageview, sendBatch } from '../helpers/capture.ts';
import { ALREADY, ILLEGAL, newProject, runMergeCase, type MergeCase } from '../helpers/persons.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Illegal distinct ids (posthog-semantics.md §2.6): placeholders such as "null" or "anonymous" never take
 * part in a merge and raise cannot_merge_with_illegal_distinct_id; near misses are ordinary ids.
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
// Illegal distinct ids
// ---------------------------------------------------------------------------------------------

const ILLEGAL_IDS: [string, string][] = [
  // case-insensitive
  ['anonymous', 'anonymous'],
  ['Anonymous', 'anonymous, any case'],
  ['guest', 'guest'],
  ['GUEST', 'guest, any case'],
  ['distinctid', 'distinctid'],
  ['DistinctId', 'distinctid, any case'],
  ['distinct_id', 'distinct_id'],
  ['id', 'id'],
  ['ID', 'id, any case'],
  ['not_authenticated', 'not_authenticated'],
  ['Not_Authenticated', 'not_authenticated, any case'],
  ['email', 'email'],
  ['EMAIL', 'email, any case'],
  ['undefined', 'undefined'],
  ['Undefined', 'undefined, any case'],
  ['true', 'true'],
  ['TRUE', 'true, any case'],
  ['false', 'false'],
  ['False', 'false, any case'],
  // case-sensitive
  ['[object Object]', '[object Object]'],
  ['NaN', 'NaN'],
  ['None', 'None'],
  ['none', 'none'],
  ['null', 'null'],
  ['0', '0'],
  // quoted forms
  ['"null"', 'double-quoted null'],
  ["'null'", 'single-quoted null'],
  ['"anonymous"', 'double-quoted anonymous'],
  ["'guest'", 'single-quoted guest'],
  ['"[object Object]"', 'double-quoted [object Object]'],
  ["'undefined'", 'single-quoted undefined'],
  ['"0"', 'double-quoted 0'],
  // empty, whitespace, and surrounding whitespace (checked after trimming)
  ['', 'empty'],
  [' ', 'one space'],
  ['   ', 'spaces'],
  ['\t', 'a tab'],
  [' \n ', 'newline and spaces'],
  [' null ', 'null with spaces around'],
  ['  anonymous\t', 'anonymous with whitespace around'],
];

/** Near misses that are ordinary ids: the case-sensitive entries in other cases, and look-alikes. */
const LEGAL_LOOKALIKES: [string, string][] = [
  ['NULL', 'null in capitals (null is case-sensitive)'],
  ['Null', 'Null (null is case-sensitive)'],
  ['nan', 'nan (NaN is case-sensitive)'],
  ['NONE', 'NONE (None/none are case-sensitive)'],
  ['[OBJECT OBJECT]', '[OBJECT OBJECT] ([object Object] is case-sensitive)'],
  ['00', '00'],
  ['anonymous-42', 'anonymous-42'],
  ['guest@example.com', 'guest@example.com'],
  ['"hello"', 'a quoted ordinary word'],
];

describe('illegal distinct ids never merge (§2.6)', () => {
  const rows: MergeCase[] = [];
  for (const [id, label] of ILLEGAL_IDS) {
    rows.push({
      name: `$identify with $anon_distinct_id ${label} (${JSON.stringify(id)})`,
      steps: [[identify('real-user', id, 1, { $set: { email: 'real@example.com' } })]],
      persons: [{ ids: ['real-user'], identified: false, props: { email: 'real@example.com' } }],
      warnings: [{ type: ILLEGAL, distinctId: 'real-user', step: 0 }],
    });
  }
  for (const [id, label] of ILLEGAL_IDS.filter(([id]) => ['null', 'anonymous', '[object Object]', ' ', 'GUEST', '"null"'].includes(id))) {
    rows.push({
      name: `$create_alias with alias ${label} (${JSON.stringify(id)})`,
      steps: [[pageview('real-user', 1)], [alias('real-user', id, 2)]],
      persons: [{ ids: ['real-user'], identified: false, keepsIdOf: { distinctId: 'real-user', step: 0 } }],
      warnings: [{ type: ILLEGAL, distinctId: 'real-user', step: 1 }],
    });
  }
  for (const id of ['undefined', 'distinct_id', "'null'"]) {
    rows.push({
      name: `$merge_dangerously with alias ${JSON.stringify(id)}`,
      steps: [[pageview('real-user', 1)], [alias('real-user', id, 2, '$merge_dangerously')]],
      persons: [{ ids: ['real-user'], identified: false }],
      warnings: [{ type: ILLEGAL, distinctId: 'real-user', step: 1 }],
    });
  }
  // The illegal id as the identified side (the event's own distinct_id). Capture refuses blank distinct ids,
  // so only non-blank ones can be sent; whether the placeholder gets a person of its own is not the point.
  for (const id of ['anonymous', 'null', '[object Object]', 'undefined', '0', 'Email', '"guest"']) {
    rows.push({
      name: `$identify from distinct_id ${JSON.stringify(id)} with a real anonymous id`,
      steps: [[pageview('real-anon', 1, { $set: { seen: true } })], [identify(id, 'real-anon', 2)]],
      persons: [{ ids: ['real-anon'], identified: false, props: { seen: true }, keepsIdOf: { distinctId: 'real-anon', step: 0 } }],
      exact: false,
      warnings: [{ type: ILLEGAL, distinctId: id, step: 1 }],
    });
  }
  for (const [id, label] of LEGAL_LOOKALIKES) {
    rows.push({
      name: `control: ${label} is an ordinary id and merges (${JSON.stringify(id)})`,
      steps: [[identify('real-user', id, 1)]],
      persons: [{ ids: ['real-user', id], identified: true }],
    });
  }

  it.each(rows.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await runMergeCase(server, c);
  });

  it('an illegal-id warning names the event, and the event itself is stored and attributed to the sender', async () => {
    const project = await newProject(server, 'illegal warning details');
    const event = identify('someone', 'null', 7);
    await sendBatch(server, project.token, [event]);
    const [warning, ...rest] = await ingestionWarnings(server, project.id);
    expect(rest).toEqual([]);
    expect(warning).toMatchObject({ type: ILLEGAL, eventUuid: event.uuid, distinctId: 'someone' });
    expect(Number.isNaN(Date.parse(warning!.timestamp))).toBe(false);
    const stored = await eventByUuid(server, project.id, event.uuid);
    expect(stored).toMatchObject({ event: '$identify', distinctId: 'someone' });
    expect(stored!.person?.distinctIds).toEqual(['someone']);

    // Warnings are listed newest first.
    await sendBatch(server, project.token, [pageview('x1', 8)]);
    await sendBatch(server, project.token, [identify('x2', 'x1', 9)]);
    await sendBatch(server, project.token, [pageview('other', 10)]);
    await sendBatch(server, project.token, [identify('someone', 'x2', 11)]);
    const later = alias('someone', 'anonymous', 12);
    await sendBatch(server, project.token, [later]);
    const listed = await ingestionWarnings(server, project.id);
    expect(listed.map((w) => [w.type, w.eventUuid])).toEqual([
      [ILLEGAL, later.uuid],
      [ALREADY, expect.any(String)],
      [ILLEGAL, event.uuid],
    ]);
  });
});
