// Writes the Pothos schema as SDL to schema/schema.graphql; test/server/schema.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from '../src/graphql/print.ts';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
writeFileSync(target, printedSchema());
process.stdout.write(`wrote ${target}\n`);
