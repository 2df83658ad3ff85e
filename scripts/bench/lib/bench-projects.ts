import type { Agent } from 'node:http';
import type { Collection, MongoClient } from 'mongodb';
import type { EventDocument } from '../../../src/db/documents.ts';
import { post } from './http-client.ts';

export interface BenchProject {
  id: string;
  apiToken: string;
}

/** Creates a project through the public API, as an operator would, so each phase starts with no persons. */
export async function createProject(agent: Agent, graphqlUrl: string, adminKey: string, name: string): Promise<BenchProject> {
  const query = 'mutation ($input: CreateProjectInput!) { createProject(input: $input) { project { id apiToken } } }';
  const body = Buffer.from(JSON.stringify({ query, variables: { input: { name } } }));
  const res = await post(agent, new URL(graphqlUrl), body, { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` });
  const parsed = JSON.parse(res.body) as { data?: { createProject?: { project?: BenchProject } }; errors?: { message: string }[] };
  const project = parsed.data?.createProject?.project;
  if (res.status !== 200 || project === undefined) {
    throw new Error(`createProject answered ${res.status}: ${parsed.errors?.map((e) => e.message).join('; ') ?? res.body}`);
  }
  return project;
}

/**
 * A collection in another database on the same store with exactly the indexes the server built on
 * `events`, read back from the store, for the driver baseline; its documents never mix with the app's.
 */
export async function prepareRawCollection(client: MongoClient, appDatabase: string, rawDatabase: string): Promise<{ coll: Collection<EventDocument>; names: string[] }> {
  const source = client.db(appDatabase).collection('events');
  const target = client.db(rawDatabase).collection<EventDocument>('events');
  const names: string[] = [];
  for (const index of await source.indexes()) {
    if (index.name === '_id_') continue;
    const { key, name, v: _v, ns: _ns, ...options } = index as typeof index & { ns?: string };
    await target.createIndex(key, { ...options, name });
    names.push(`${name}${index.unique ? ' (unique)' : ''}`);
  }
  return { coll: target, names };
}
