import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../src/graphql/print.ts';

describe('schema/schema.graphql', () => {
  it('matches the schema the server builds (run `npm run schema:print` after changing the API)', () => {
    const committed = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(printedSchema()).toBe(committed);
  });
});
