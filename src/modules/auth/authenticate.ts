import type { Collection } from 'mongodb';
import type { ApiKeyDocument } from '../../db/documents.ts';
import { UnauthenticatedError } from '../../graphql/errors.ts';
import { ANONYMOUS, type Principal } from './principal.ts';
import { PROJECT_TOKEN_PREFIX, secretsEqual, secureValueOf } from './secrets.ts';

/** Dependencies of {@link Authenticator}. */
export interface AuthenticatorDeps {
  apiKeys: Collection<ApiKeyDocument>;
  /** The bootstrap admin secret, if one is configured. */
  adminKey?: string;
}

/** How long a key's `lastUsedAt` may lag; keeps a busy key from causing one write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Turns a presented secret into a {@link Principal}; a wrong or revoked secret is an error, never "anonymous". */
export class Authenticator {
  constructor(private readonly deps: AuthenticatorDeps) {}

  /** From an HTTP `Authorization` header value. */
  fromHeader(header: string | null | undefined): Promise<Principal> {
    if (header === null || header === undefined || header.trim() === '') return Promise.resolve(ANONYMOUS);
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match?.[1] === undefined) throw new UnauthenticatedError('The Authorization header must be "Bearer <key>".');
    return this.fromSecret(match[1]);
  }

  /** From a graphql-ws `connection_init` payload: `{ authorization: "Bearer <key>" }` or `{ apiKey: "<key>" }`. */
  fromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Promise<Principal> {
    const authorization = params?.authorization ?? params?.Authorization;
    if (typeof authorization === 'string') return this.fromHeader(authorization);
    if (typeof params?.apiKey === 'string') return this.fromSecret(params.apiKey);
    return Promise.resolve(ANONYMOUS);
  }

  async fromSecret(secret: string): Promise<Principal> {
    const { adminKey, apiKeys } = this.deps;
    if (adminKey !== undefined && secretsEqual(secret, adminKey)) return { kind: 'admin' };
    if (secret.startsWith(PROJECT_TOKEN_PREFIX)) {
      throw new UnauthenticatedError('A project capture token is public and write-only; reading needs a personal API key.');
    }
    const key = await apiKeys.findOne({ secureValue: secureValueOf(secret), revokedAt: { $exists: false } });
    if (key === null) throw new UnauthenticatedError('The API key is unknown or has been revoked.');
    const now = new Date();
    if (key.lastUsedAt === undefined || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      // Bookkeeping only: a failure here must not fail the caller's request.
      apiKeys.updateOne({ _id: key._id }, { $set: { lastUsedAt: now } }).catch(() => undefined);
    }
    return { kind: 'apiKey', key };
  }

  /** Whether a principal obtained earlier is still valid (a long-lived socket re-checks after revocation). */
  async stillValid(principal: Principal): Promise<boolean> {
    if (principal.kind !== 'apiKey') return true;
    const key = await this.deps.apiKeys.findOne({ _id: principal.key._id, revokedAt: { $exists: false } });
    return key !== null;
  }
}
