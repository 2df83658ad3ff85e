import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Context } from './context.ts';
import { SightlineError } from './errors.ts';
import { COMPLEXITY_LIMIT } from './limits.ts';

/** The one schema builder: configuration only; types live beside their domain in src/modules. */
export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}>({
  plugins: [ComplexityPlugin, SimpleObjectsPlugin],
  defaultFieldNullability: false,
  complexity: {
    defaultComplexity: 1,
    defaultListMultiplier: 10,
    limit: COMPLEXITY_LIMIT,
    // A stable code, and no thresholds in the message (they would tell an attacker how far to go).
    complexityError: () => new SightlineError('QUERY_TOO_EXPENSIVE', 'The query is too expensive: ask for smaller pages or fewer nested lists.'),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
