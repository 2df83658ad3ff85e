import { describe, expect, it } from 'vitest';
import { isIllegalDistinctId } from './illegal-ids.ts';

describe('illegal distinct ids never merge', () => {
  it.each([
    'anonymous', 'Anonymous', 'GUEST', 'distinctid', 'DISTINCT_ID', 'id', 'ID', 'not_authenticated', 'email', 'Email',
    'undefined', 'UNDEFINED', 'true', 'False', '[object Object]', 'NaN', 'None', 'none', 'null', '0',
    '', '   ', '\t', ' anonymous ', '"anonymous"', "'null'", '"0"', "' guest '", '""',
  ])('%j is illegal', (id) => {
    expect(isIllegalDistinctId(id)).toBe(true);
  });

  it.each(['user-1', 'nan', 'NULL', 'Null', 'NONE', '00', '0.0', 'user@example.com', 'anonymous-123', '"user"', 'object Object'])(
    '%j is an ordinary id',
    (id) => {
      expect(isIllegalDistinctId(id)).toBe(false);
    },
  );
});
