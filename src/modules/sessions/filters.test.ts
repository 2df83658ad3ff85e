import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStore, type TestStore } from '../../../test/helpers/store.ts';
import { collectionsOf } from '../../db/collections.ts';
import { ensureIndexes } from '../../db/indexes.ts';
import { ProjectScope } from '../../db/project-scope.ts';
import { BadUserInputError } from '../../graphql/errors.ts';
import type { PropertyFilter } from '../events/filters.ts';
import { compileSessionFilter, compileSessionPropertyFilter } from './filters.ts';
import { rollupSessions } from './rollup.ts';

const ALL_KEYS = [
  '$session_id', '$start_timestamp', '$end_timestamp', '$session_duration', '$entry_current_url', '$entry_pathname',
  '$entry_referrer', '$entry_referring_domain', '$entry_utm_source', '$entry_utm_medium', '$entry_utm_campaign',
  '$entry_utm_term', '$entry_utm_content', '$entry_gclid', '$entry_gad_source', '$exit_current_url', '$exit_pathname',
  '$pageview_count', '$autocapture_count', '$is_bounce', '$channel_type',
];

let store: TestStore;
let scope: ProjectScope;
const full = randomUUID();
const bare = randomUUID();

beforeAll(async () => {
  store = await startTestStore();
  const db = store.client.db('sessions-filters');
  await ensureIndexes(db);
  scope = new ProjectScope({ _id: 'p1', name: 'p', apiToken: 'phc_p1', timezone: 'UTC', createdAt: new Date() }, collectionsOf(db));
  const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s));
  await rollupSessions(scope, [
    {
      uuid: randomUUID(),
      event: '$pageview',
      distinctId: 'd1',
      timestamp: at(0),
      sessionId: full,
      properties: {
        $session_id: full,
        $current_url: 'https://a.example/x?utm_source=news',
        $referrer: 'https://news.example/',
        $referring_domain: 'news.example',
        utm_source: 'news',
        utm_medium: 'email',
        utm_campaign: 'c',
        utm_term: 't',
        utm_content: 'x',
        gclid: 'g',
        gad_source: '2',
      },
    },
    { uuid: randomUUID(), event: 'server event', distinctId: 'd2', timestamp: at(30), sessionId: bare, properties: { $session_id: bare } },
  ]);
});

afterAll(async () => {
  await store?.dispose();
});

async function matching(...filters: PropertyFilter[]): Promise<string[]> {
  const docs = await scope.data.sessions.find(compileSessionFilter({ properties: filters })).toArray();
  return docs.map((d) => d.sessionId).sort();
}

describe('compileSessionPropertyFilter', () => {
  it.each(ALL_KEYS)('maps %s to a field every session with full entry facts has', async (key) => {
    expect(await matching({ key, operator: 'is_set' })).toContain(full);
  });

  it('leaves entry facts unset on a session without pages, so is_not_set finds it', async () => {
    expect(await matching({ key: '$entry_current_url', operator: 'is_not_set' })).toEqual([bare]);
    expect(await matching({ key: '$entry_utm_source', operator: 'exact', value: 'news' })).toEqual([full]);
  });

  it('compares timestamps as instants', async () => {
    expect(await matching({ key: '$start_timestamp', operator: 'gte', value: '2024-01-01T00:00:10Z' })).toEqual([bare]);
    expect(await matching({ key: '$end_timestamp', operator: 'lt', value: Date.UTC(2024, 0, 1, 0, 0, 10) })).toEqual([full]);
  });

  it('refuses an unknown key and names the session properties that exist', () => {
    let error: unknown;
    try {
      compileSessionPropertyFilter({ key: '$browser', operator: 'exact', value: 'Chrome' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BadUserInputError);
    for (const key of ALL_KEYS) expect((error as Error).message).toContain(key);
  });

  it('refuses text operators and invalid dates on timestamps', () => {
    expect(() => compileSessionPropertyFilter({ key: '$start_timestamp', operator: 'icontains', value: '2024' })).toThrow(BadUserInputError);
    expect(() => compileSessionPropertyFilter({ key: '$start_timestamp', operator: 'gt', value: 'yesterday' })).toThrow(BadUserInputError);
  });

  it('refuses person or event filters in a session list', () => {
    expect(() => compileSessionFilter({ properties: [{ key: 'email', operator: 'is_set', type: 'person' }] })).toThrow(BadUserInputError);
  });
});
