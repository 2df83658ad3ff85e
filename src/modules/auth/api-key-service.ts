import { ObjectId } from 'mongodb';
import type { Collections } from '../../db/collections.ts';
import type { ApiKeyDocument } from '../../db/documents.ts';
import { DURABLE } from '../../db/write-concern.ts';
import { BadUserInputError, NotFoundError } from '../../graphql/errors.ts';
import { maskOf, newPersonalKey, secureValueOf } from './secrets.ts';
import type { Scope } from './scopes.ts';

/** Input of {@link ApiKeyService.create}. */
export interface NewApiKey {
  label: string;
  scopes: Scope[];
  /** The projects the key may use; every id must exist. */
  projectIds: string[];
}

/** Subscribers learn about revocations so live sockets of a revoked key close at once in this process. */
export type RevocationListener = (keyId: string) => void;

const MAX_LABEL_LENGTH = 100;

export class ApiKeyService {
  private readonly revocationListeners = new Set<RevocationListener>();

  constructor(private readonly collections: Collections) {}

  /** Creates a key and returns its secret, which is not stored and cannot be shown again. */
  async create(input: NewApiKey): Promise<{ secret: string; apiKey: ApiKeyDocument }> {
    const label = input.label.trim();
    if (label === '' || label.length > MAX_LABEL_LENGTH) {
      throw new BadUserInputError(`A key label must have 1 to ${MAX_LABEL_LENGTH} characters.`);
    }
    if (input.scopes.length === 0) throw new BadUserInputError('A key needs at least one scope.');
    const projectIds = [...new Set(input.projectIds)];
    if (projectIds.length === 0) throw new BadUserInputError('A key must be limited to at least one project.');
    const found = await this.collections.projects.countDocuments({ _id: { $in: projectIds } });
    if (found !== projectIds.length) throw new BadUserInputError('Some of the listed projects do not exist.');
    const secret = newPersonalKey();
    const apiKey: ApiKeyDocument = {
      _id: new ObjectId().toHexString(),
      label,
      secureValue: secureValueOf(secret),
      maskValue: maskOf(secret),
      scopes: [...new Set(input.scopes)],
      projectIds,
      createdAt: new Date(),
    };
    await this.collections.apiKeys.insertOne(apiKey, { writeConcern: DURABLE });
    return { secret, apiKey };
  }

  /** Revokes a key; later requests with it fail, and live sockets using it are closed. */
  async revoke(id: string): Promise<ApiKeyDocument> {
    const revoked = await this.collections.apiKeys.findOneAndUpdate(
      { _id: id, revokedAt: { $exists: false } },
      { $set: { revokedAt: new Date() } },
      { returnDocument: 'after', writeConcern: DURABLE },
    );
    if (revoked === null) throw new NotFoundError(`API key "${id}" was not found or is already revoked.`);
    for (const listener of this.revocationListeners) listener(id);
    return revoked;
  }

  /** Lets a key that created a project use it. */
  async grantProject(keyId: string, projectId: string): Promise<void> {
    await this.collections.apiKeys.updateOne({ _id: keyId }, { $addToSet: { projectIds: projectId } }, { writeConcern: DURABLE });
  }

  onRevoke(listener: RevocationListener): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }
}
