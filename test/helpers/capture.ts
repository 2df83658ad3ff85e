import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { gql } from './server.ts';

/*
 * Helpers for the person and identity tests: PostHog-shaped events sent over real HTTP to the capture
 * route, and person / event / warning reads through GraphQL. They work against the in-process test
 * server and against spawned server processes alike (anything with a URL and an admin key).
 */

/** Anything the helpers can talk to: a base URL, its GraphQL URL and a key that may do everything. */
export interface Target {
  url: string;
  graphqlUrl: string;
  adminKey: string;
}

/** An event as posthog-node puts it in a `/batch` body. */
export interface SentEvent {
  event: string;
  distinct_id: string;
  uuid: string;
  timestamp: string;
  properties: Record<string, unknown>;
  $set?: Record<string, unknown>;
  $set_once?: Record<string, unknown>;
}

const BASE = Date.UTC(2024, 2, 1, 10, 0, 0);

/** A fixed instant `minute` minutes after 2024-03-01T10:00:00Z, as ISO text (the tests' clock). */
export function at(minute: number): string {
  return new Date(BASE + minute * 60_000).toISOString();
}

/** One event with a fresh uuid; `timestamp` defaults to {@link at}(0). */
export function ev(event: string, distinctId: string, properties: Record<string, unknown> = {}, extra: Partial<SentEvent> = {}): SentEvent {
  return { event, distinct_id: distinctId, uuid: randomUUID(), timestamp: at(0), properties, ...extra };
}

/** A `$identify` as the SDKs send it: the new id as distinct_id, the previous one as `$anon_distinct_id` (if given). */
export function identify(
  distinctId: string,
  anonDistinctId: string | undefined,
  minute: number,
  ops: { $set?: Record<string, unknown>; $set_once?: Record<string, unknown>; $unset?: unknown } = {},
): SentEvent {
  const properties: Record<string, unknown> = { ...ops };
  if (anonDistinctId !== undefined) properties.$anon_distinct_id = anonDistinctId;
  return ev('$identify', distinctId, properties, { timestamp: at(minute) });
}

/** `$create_alias` or `$merge_dangerously`: merge `alias` (the source) into `distinctId` (the target). */
export function alias(
  distinctId: string,
  aliasId: string,
  minute: number,
  event: '$create_alias' | '$merge_dangerously' = '$create_alias',
  ops: Record<string, unknown> = {},
): SentEvent {
  return ev(event, distinctId, { distinct_id: distinctId, alias: aliasId, ...ops }, { timestamp: at(minute) });
}

/** A plain event at `minute`, optionally with person operations in its properties. */
export function pageview(distinctId: string, minute: number, properties: Record<string, unknown> = {}): SentEvent {
  return ev('$pageview', distinctId, properties, { timestamp: at(minute) });
}

/** The parsed answer of a capture request. */
export interface CaptureAnswer {
  status: number;
  body: any;
}

/** POSTs `{api_key, batch}` to `/batch` (no sent_at, so each event keeps its own timestamp). */
export async function postBatch(target: Pick<Target, 'url'>, token: string, events: SentEvent[]): Promise<CaptureAnswer> {
  const response = await fetch(`${target.url}/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: token, batch: events }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

/** Sends one request and asserts that every event in it was stored as new. */
export async function sendBatch(target: Pick<Target, 'url'>, token: string, events: SentEvent[]): Promise<void> {
  const answer = await postBatch(target, token, events);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.body).toMatchObject({ accepted: events.length, duplicates: 0 });
}

/**
 * Sends like an SDK under load does: a 503 (too many writes in flight) is retried after a short pause,
 * as posthog-node and posthog-js retry 5xx. Any other answer than 200 fails the test.
 */
export async function sendBatchRetrying(target: Pick<Target, 'url'>, token: string, events: SentEvent[], attempts = 40): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const answer = await postBatch(target, token, events);
    if (answer.status === 503 && attempt < attempts) {
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
      continue;
    }
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    // A retry after an uncertain 503 may find some events already stored: fine, each is stored once.
    expect(answer.body.accepted + answer.body.duplicates).toBe(events.length);
    return;
  }
}

/** Runs a GraphQL operation with the admin key and returns `data`, failing the test on any error. */
export async function query<T = any>(target: Target, text: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await gql<T>(target, text, variables, target.adminKey);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data as T;
}

/** The person fields the tests look at. */
export interface PersonView {
  id: string;
  distinctIds: string[];
  properties: Record<string, any>;
  isIdentified: boolean;
  createdAt: string;
}

export const PERSON_FIELDS = 'id distinctIds properties isIdentified createdAt';

/** `Project.person(distinctId:)`. */
export async function personOf(target: Target, projectId: string, distinctId: string): Promise<PersonView | null> {
  const data = await query(target, `query($p: ID!, $d: String) { project(id: $p) { person(distinctId: $d) { ${PERSON_FIELDS} } } }`, {
    p: projectId,
    d: distinctId,
  });
  return data.project.person;
}

/** `Project.person(id:)`. */
export async function personById(target: Target, projectId: string, id: string): Promise<PersonView | null> {
  const data = await query(target, `query($p: ID!, $id: ID) { project(id: $p) { person(id: $id) { ${PERSON_FIELDS} } } }`, { p: projectId, id });
  return data.project.person;
}

/** Every person of the project (one page of up to 1000), newest first as the API orders them. */
export async function allPersons(target: Target, projectId: string, args: { search?: string; properties?: unknown[] } = {}): Promise<PersonView[]> {
  const data = await query(
    target,
    `query($p: ID!, $s: String, $f: [PropertyFilterInput!]) {
      project(id: $p) { persons(search: $s, properties: $f, first: 1000) { edges { node { ${PERSON_FIELDS} } } pageInfo { hasNextPage } } }
    }`,
    { p: projectId, s: args.search, f: args.properties },
  );
  expect(data.project.persons.pageInfo.hasNextPage).toBe(false);
  return data.project.persons.edges.map((e: { node: PersonView }) => e.node);
}

/** An event with the person it resolves to now. */
export interface EventView {
  uuid: string;
  event: string;
  distinctId: string;
  timestamp: string;
  person: { id: string; distinctIds: string[] } | null;
}

const EVENT_FIELDS = 'uuid event distinctId timestamp person { id distinctIds }';

/** Every event of the project (optionally filtered), with its person. */
export async function allEvents(target: Target, projectId: string, filter?: unknown): Promise<EventView[]> {
  const data = await query(
    target,
    `query($p: ID!, $f: EventFilter) { project(id: $p) { events(filter: $f, first: 1000) { edges { node { ${EVENT_FIELDS} } } pageInfo { hasNextPage } } } }`,
    { p: projectId, f: filter },
  );
  expect(data.project.events.pageInfo.hasNextPage).toBe(false);
  return data.project.events.edges.map((e: { node: EventView }) => e.node);
}

/** One event by uuid with its person; null when it is not stored. */
export async function eventByUuid(target: Target, projectId: string, uuid: string): Promise<EventView | null> {
  const data = await query(target, `query($p: ID!, $u: ID!) { project(id: $p) { event(uuid: $u) { ${EVENT_FIELDS} } } }`, { p: projectId, u: uuid });
  return data.project.event;
}

/** The uuids of a person's events (`Person.events`), found through `Project.person(id:)`. */
export async function eventsOfPerson(target: Target, projectId: string, personId: string): Promise<string[]> {
  const data = await query(
    target,
    `query($p: ID!, $id: ID) { project(id: $p) { person(id: $id) { events(first: 1000) { edges { node { uuid distinctId } } pageInfo { hasNextPage } } } } }`,
    { p: projectId, id: personId },
  );
  expect(data.project.person, `person ${personId} should exist`).not.toBeNull();
  expect(data.project.person.events.pageInfo.hasNextPage).toBe(false);
  return data.project.person.events.edges.map((e: { node: { uuid: string } }) => e.node.uuid);
}

/** An ingestion warning as the API shows it. */
export interface WarningView {
  id: string;
  type: string;
  details: Record<string, unknown>;
  eventUuid: string | null;
  distinctId: string | null;
  timestamp: string;
}

/** The project's ingestion warnings, newest first. */
export async function ingestionWarnings(target: Target, projectId: string): Promise<WarningView[]> {
  const data = await query(
    target,
    `query($p: ID!) { project(id: $p) { ingestionWarnings(first: 1000) { edges { node { id type details eventUuid distinctId timestamp } } pageInfo { hasNextPage } } } }`,
    { p: projectId },
  );
  expect(data.project.ingestionWarnings.pageInfo.hasNextPage).toBe(false);
  return data.project.ingestionWarnings.edges.map((e: { node: WarningView }) => e.node);
}

/** A sorted copy, for comparing sets of ids. */
export function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}
