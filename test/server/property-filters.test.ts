import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, gql, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * Property filters are proven against a deliberately naive oracle: plain TypeScript written from
 * PostHog's documented matching rules, not from the filter compiler. Events are stored through the
 * real capture route and read back through GraphQL over HTTP; the two answers must be the same set.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Scalar = string | number | boolean | null;

const OPERATORS = ['exact', 'is_not', 'icontains', 'regex', 'gt', 'gte', 'lt', 'lte', 'is_set', 'is_not_set'] as const;
type Operator = (typeof OPERATORS)[number];

interface PropertyFilter {
  key: string;
  operator: Operator;
  value?: Scalar | Scalar[];
}

interface Filter {
  events?: string[];
  after?: string;
  before?: string;
  distinctId?: string;
  properties?: PropertyFilter[];
}

interface Row {
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: number;
  properties: Record<string, Json>;
}

// ---------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------

/** A number written in decimal notation; anything else (blank, hex, words) is not a number. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function asNumber(value: Json | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  return undefined;
}

function isScalar(value: Json | undefined): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function valuesOf(value: PropertyFilter['value']): Scalar[] {
  return Array.isArray(value) ? value : [value ?? null];
}

/** PostHog: a missing property fails every operator except the negative ones and `is_not_set`. */
function propertyMatches(row: Row, filter: PropertyFilter): boolean {
  const present = Object.hasOwn(row.properties, filter.key);
  const actual = present ? row.properties[filter.key] : undefined;
  const equalsAny = () => present && isScalar(actual) && valuesOf(filter.value).some((v) => v === actual);
  switch (filter.operator) {
    case 'is_set':
      return present;
    case 'is_not_set':
      return !present;
    case 'exact':
      return equalsAny();
    case 'is_not':
      return !equalsAny();
    case 'icontains':
      return typeof actual === 'string' && actual.toLowerCase().includes(String(filter.value).toLowerCase());
    case 'regex':
      return typeof actual === 'string' && new RegExp(String(filter.value)).test(actual);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const n = asNumber(actual);
      const bound = Number(filter.value);
      if (n === undefined) return false;
      if (filter.operator === 'gt') return n > bound;
      if (filter.operator === 'gte') return n >= bound;
      if (filter.operator === 'lt') return n < bound;
      return n <= bound;
    }
  }
}

function oracle(rows: Row[], filter: Filter): string[] {
  return rows
    .filter((row) => {
      if (filter.events !== undefined && !filter.events.includes(row.event)) return false;
      if (filter.after !== undefined && row.timestamp < Date.parse(filter.after)) return false;
      if (filter.before !== undefined && row.timestamp >= Date.parse(filter.before)) return false;
      if (filter.distinctId !== undefined && row.distinctId !== filter.distinctId) return false;
      return (filter.properties ?? []).every((p) => propertyMatches(row, p));
    })
    .map((row) => row.uuid)
    .sort();
}

// ---------------------------------------------------------------------------------------------
// Generated data
// ---------------------------------------------------------------------------------------------

const BASE_MS = Date.parse('2024-03-01T00:00:00.000Z');
const EVENT_NAMES = ['$pageview', 'signup', 'Sign Up', 'purchase'];
const DISTINCT_IDS = ['u1', 'U1', 'u2', 'user.3'];
/** Keys a user may send: PostHog's `$` keys, dotted keys, escaped-looking keys and prototype names. */
const KEYS = ['plan', '$browser', 'a.b', 'a', '%24x', '$x', 'n', '__proto__', 'constructor'];
const FILTER_KEYS = [...KEYS, 'missing'];

// Small pools, so generated filters often meet generated values (including the awkward ones).
const strings = fc.constantFrom('', 'alpha', 'ALPHA beta', 'Chrome', 'a.c', 'a*c', '$5', 'null', 'true', '42', '-3.5', '1e3', '007');
const numbers = fc.constantFrom(-1, 0, 1, 2.5, 7, 42, 1000);
const scalars: fc.Arbitrary<Scalar> = fc.oneof(
  { weight: 4, arbitrary: strings },
  { weight: 3, arbitrary: numbers },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.constant(null) },
);
const values: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: scalars },
  { weight: 1, arbitrary: fc.array(scalars, { maxLength: 3 }) },
  // Under "a" this looks like what a dotted path "a.b" would reach if keys were not matched literally.
  { weight: 1, arbitrary: fc.record({ b: scalars }) },
);

const rowsArb = fc.array(
  fc.record({
    event: fc.constantFrom(...EVENT_NAMES),
    distinctId: fc.constantFrom(...DISTINCT_IDS),
    // Few distinct seconds, so equal timestamps and exact bounds are common.
    second: fc.integer({ min: 0, max: 30 }),
    properties: fc.array(fc.tuple(fc.constantFrom(...KEYS), values), { maxLength: 8 }),
  }),
  { minLength: 1, maxLength: 40 },
);

const instant = fc.integer({ min: -1, max: 31 }).map((s) => new Date(BASE_MS + s * 1000).toISOString());

const propertyFilterArb: fc.Arbitrary<PropertyFilter> = fc.oneof(
  fc.record({
    key: fc.constantFrom(...FILTER_KEYS),
    operator: fc.constantFrom('exact' as const, 'is_not' as const),
    value: fc.oneof(scalars, fc.array(scalars, { minLength: 1, maxLength: 3 })),
  }),
  fc.record({
    key: fc.constantFrom(...FILTER_KEYS),
    operator: fc.constant('icontains' as const),
    value: fc.constantFrom('a', 'ALPHA', 'rom', '.', '*', '$', '4', 'a b', 'NULL', 'e'),
  }),
  fc.record({
    key: fc.constantFrom(...FILTER_KEYS),
    operator: fc.constant('regex' as const),
    value: fc.constantFrom('^a', 'A', '^[0-9]+$', 'a.c', 'e$', '^(alpha|Chrome)', '\\$', '^$', '[.]', '\\d'),
  }),
  fc.record({
    key: fc.constantFrom(...FILTER_KEYS),
    operator: fc.constantFrom('gt' as const, 'gte' as const, 'lt' as const, 'lte' as const),
    value: fc.constantFrom(-1, 0, 1, 2.5, 7, 42, '10', '-3.5', '1e3', '0'),
  }),
  fc.record({
    key: fc.constantFrom(...FILTER_KEYS),
    operator: fc.constantFrom('is_set' as const, 'is_not_set' as const),
  }),
);

/** Present in about one filter in four, so most filters are decided by their property conditions. */
function sometimes<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

const filterArb: fc.Arbitrary<Filter> = fc
  .record({
    events: sometimes(fc.uniqueArray(fc.constantFrom(...EVENT_NAMES), { minLength: 1, maxLength: 3 })),
    after: sometimes(instant),
    before: sometimes(instant),
    distinctId: sometimes(fc.constantFrom(...DISTINCT_IDS)),
    properties: fc.array(propertyFilterArb, { minLength: 1, maxLength: 2 }),
  })
  .map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as Filter);

// ---------------------------------------------------------------------------------------------
// Talking to the server
// ---------------------------------------------------------------------------------------------

const EVENTS_QUERY = `query Events($id: ID!, $filter: EventFilter) {
  project(id: $id) { events(filter: $filter, first: 1000) { edges { node { uuid properties } } pageInfo { hasNextPage } } }
}`;

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.dispose();
});

/** Stores the rows through the PostHog-compatible `/batch` route, as an SDK would. */
async function seed(token: string, rows: Row[]): Promise<void> {
  const batch = rows.map((row) => ({
    event: row.event,
    distinct_id: row.distinctId,
    uuid: row.uuid,
    timestamp: new Date(row.timestamp).toISOString(),
    properties: row.properties,
  }));
  const response = await fetch(`${server.url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: token, batch }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ accepted: rows.length });
}

async function newProjectWith(rows: Row[]): Promise<string> {
  const project = await createProject(server, `filters ${randomUUID()}`);
  await seed(project.apiToken, rows);
  return project._id;
}

async function query(projectId: string, filter: unknown) {
  return gql(server, EVENTS_QUERY, { id: projectId, filter }, server.adminKey);
}

async function matchingUuids(projectId: string, filter: unknown): Promise<string[]> {
  const res = await query(projectId, filter);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  expect(res.data.project.events.pageInfo.hasNextPage).toBe(false);
  return res.data.project.events.edges.map((e: { node: { uuid: string } }) => e.node.uuid).sort();
}

function codesOf(res: { errors?: { extensions?: { code?: string } }[] }): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

function row(partial: Partial<Row> & { properties: Record<string, Json> }): Row {
  return { uuid: randomUUID(), event: 'e', distinctId: 'd', timestamp: BASE_MS, ...partial };
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('property filters against the oracle', () => {
  it('return exactly the events the oracle selects for random data and random filters', async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, fc.array(filterArb, { minLength: 12, maxLength: 12 }), async (generated, filters) => {
        const rows: Row[] = generated.map((g) => ({
          uuid: randomUUID(),
          event: g.event,
          distinctId: g.distinctId,
          timestamp: BASE_MS + g.second * 1000,
          // fromEntries keeps "__proto__" as an ordinary own key, as JSON.parse does on the server.
          properties: Object.fromEntries(g.properties) as Record<string, Json>,
        }));
        const projectId = await newProjectWith(rows);
        for (const filter of filters) {
          if (filter.after !== undefined && filter.before !== undefined && filter.after >= filter.before) {
            expect(codesOf(await query(projectId, filter))).toEqual(['BAD_USER_INPUT']);
            continue;
          }
          expect(await matchingUuids(projectId, filter), JSON.stringify(filter)).toEqual(oracle(rows, filter));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('agree with the oracle on the hand-picked edge cases of missing, null, array and nested values', async () => {
    const rows = [
      row({ properties: { v: null } }),
      row({ properties: {} }),
      row({ properties: { v: ['x', 1] } }),
      row({ properties: { v: 'x' } }),
      row({ properties: { v: 1 } }),
      row({ properties: { v: '1' } }),
      row({ properties: { v: true } }),
      row({ properties: { v: '' } }),
      row({ properties: { v: { b: 'x' } } }),
      row({ properties: { 'v.b': 'x' } }),
    ];
    const projectId = await newProjectWith(rows);
    const cases: PropertyFilter[] = [
      { key: 'v', operator: 'exact', value: null },
      { key: 'v', operator: 'is_not', value: null },
      { key: 'v', operator: 'exact', value: 'x' },
      { key: 'v', operator: 'is_not', value: 'x' },
      { key: 'v', operator: 'exact', value: 1 },
      { key: 'v', operator: 'exact', value: [1, true] },
      { key: 'v', operator: 'is_not', value: [1, '1'] },
      { key: 'v', operator: 'icontains', value: 'X' },
      { key: 'v', operator: 'regex', value: '^x$' },
      { key: 'v', operator: 'gte', value: 1 },
      { key: 'v', operator: 'lt', value: 5 },
      { key: 'v', operator: 'lte', value: '0' },
      { key: 'v', operator: 'is_set' },
      { key: 'v', operator: 'is_not_set' },
      { key: 'v.b', operator: 'exact', value: 'x' },
      { key: 'v.b', operator: 'is_set' },
    ];
    for (const filter of cases) {
      const selection = { properties: [filter] };
      expect(await matchingUuids(projectId, selection), JSON.stringify(filter)).toEqual(oracle(rows, selection));
    }
  });
});

describe('filter values and keys are data, never operators', () => {
  let projectId: string;
  let rows: Row[];

  beforeAll(async () => {
    rows = [
      row({ properties: { plan: 'free', n: 1 } }),
      row({ properties: { plan: 'pro', n: 2 } }),
      row({ properties: { plan: null } }),
      row({ properties: { $where: 'literal' } }),
      row({ properties: { 'a.$b': 1 } }),
      row({ properties: { a: { $b: 1 } } }),
      row({ properties: { $and: [] } }),
    ];
    projectId = await newProjectWith(rows);
  });

  it.each([
    ['exact', { $ne: null }],
    ['is_not', { $ne: null }],
    ['exact', { $where: 'sleep(1000) || true' }],
    ['exact', [{ $gt: '' }]],
    ['icontains', { $regex: '.*' }],
    ['regex', { $ne: '' }],
    ['gt', { $gt: '' }],
    ['lte', { $expr: true }],
  ])('treats an operator-shaped value for %s as a refused input, not a query operator', async (operator, value) => {
    const res = await query(projectId, { properties: [{ key: 'plan', operator, value }] });
    // Either refused outright, or matched literally; no stored value literally equals these objects.
    if (res.errors) {
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    } else {
      expect(res.data.project.events.edges).toEqual([]);
    }
  });

  it('matches a "$where" key literally instead of running it', async () => {
    const filter = { properties: [{ key: '$where', operator: 'is_set' }] };
    expect(await matchingUuids(projectId, filter)).toEqual(oracle(rows, filter as Filter));
    expect(await matchingUuids(projectId, filter)).toHaveLength(1);
  });

  it('matches a key "a.$b" as one literal key, not as a path into "a"', async () => {
    const filter = { properties: [{ key: 'a.$b', operator: 'exact', value: 1 }] };
    const found = await matchingUuids(projectId, filter);
    expect(found).toEqual([rows[4]!.uuid]);
  });

  it('matches a "$and" key literally', async () => {
    const filter = { properties: [{ key: '$and', operator: 'is_set' }] };
    expect(await matchingUuids(projectId, filter)).toEqual([rows[6]!.uuid]);
  });

  it('refuses an operator-shaped distinct id or event name before it reaches the database', async () => {
    for (const filter of [{ distinctId: { $ne: '' } }, { events: [{ $ne: '' }] }]) {
      const res = await query(projectId, filter);
      expect(res.data?.project ?? null).toBeNull();
      expect(res.errors?.length).toBeGreaterThan(0);
    }
  });
});

describe('filter validation', () => {
  it.each(['(a+)+$', '(a*)*b', '([a-z]+)*$', '(x+x+)+y', '(\\w+\\s?)*$'])(
    'refuses the catastrophic regex %s with BAD_USER_INPUT',
    async (pattern) => {
      const res = await query(server.project._id, { properties: [{ key: 'plan', operator: 'regex', value: pattern }] });
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.data.project).toBeNull();
    },
  );

  it.each(['[', '(', '*a', 'a{2,1}', '\\'])('refuses the invalid regex %s with BAD_USER_INPUT', async (pattern) => {
    const res = await query(server.project._id, { properties: [{ key: 'plan', operator: 'regex', value: pattern }] });
    expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses "after" equal to or later than "before" with BAD_USER_INPUT', async () => {
    for (const [after, before] of [
      ['2024-03-01T00:00:01Z', '2024-03-01T00:00:00Z'],
      ['2024-03-01T00:00:00Z', '2024-03-01T00:00:00Z'],
    ]) {
      const res = await query(server.project._id, { after, before });
      expect(codesOf(res)).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('refuses a numeric comparison with a value that is not a number', async () => {
    for (const value of ['abc', '', true, null]) {
      const res = await query(server.project._id, { properties: [{ key: 'n', operator: 'gt', value }] });
      expect(codesOf(res), JSON.stringify(value)).toEqual(['BAD_USER_INPUT']);
    }
  });
});
