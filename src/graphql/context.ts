import type { Collections } from '../db/collections.ts';
import type { Logger } from '../logger.ts';
import { Access } from '../modules/auth/access.ts';
import type { ApiKeyService } from '../modules/auth/api-key-service.ts';
import type { Authenticator } from '../modules/auth/authenticate.ts';
import type { Principal } from '../modules/auth/principal.ts';
import type { EventService } from '../modules/events/service.ts';
import type { ProjectService } from '../modules/projects/service.ts';
import type { PersonService } from '../modules/persons/service.ts';
import type { DefinitionBuffer } from '../modules/definitions/buffer.ts';
import type { CaptureService } from '../ingest/capture-service.ts';
import type { LiveEvents } from '../live/live-events.ts';
import { createLoaders, type Loaders } from './loaders.ts';

/** Long-lived application services, built once in app.ts. */
export interface Services {
  collections: Collections;
  authenticator: Authenticator;
  projects: ProjectService;
  apiKeys: ApiKeyService;
  events: EventService;
  persons: PersonService;
  definitions: DefinitionBuffer;
  capture: CaptureService;
  live: LiveEvents;
  logger: Logger;
}

/** What every resolver receives, over HTTP and over WebSocket alike. */
export interface Context {
  access: Access;
  services: Services;
  loaders: Loaders;
  /** The caller's address, for capture's `$ip` when the SDK did not send one. */
  clientIp?: string;
  userAgent?: string;
}

/** The one context factory; the caller authenticates first (from a header or `connection_init`). */
export function createContext(services: Services, principal: Principal, request: { clientIp?: string; userAgent?: string } = {}): Context {
  const loaders = createLoaders(services.collections);
  return {
    access: new Access(principal, services.collections, (id) => loaders.projectById.load(id)),
    services,
    loaders,
    ...request,
  };
}
