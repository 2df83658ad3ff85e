import { GraphQLError } from 'graphql';

/** Stable `extensions.code` values clients can switch on. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'QUERY_TOO_EXPENSIVE'
  | 'SERVICE_UNAVAILABLE'
  /** A live subscriber fell too far behind and was ended. */
  | 'SLOW_CONSUMER';

declare module 'graphql' {
  interface GraphQLErrorExtensions {
    code?: ErrorCode | string;
  }
}

/** Base of the errors that are shown to callers as they are; everything else is masked by the server. */
export class SightlineError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class UnauthenticatedError extends SightlineError {
  constructor(message = 'Authentication required: send a personal API key as "Authorization: Bearer <key>".') {
    super('UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends SightlineError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class NotFoundError extends SightlineError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class BadUserInputError extends SightlineError {
  constructor(message: string, extensions: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', message, extensions);
  }
}

export class ServiceUnavailableError extends SightlineError {
  constructor(message = 'The database did not confirm the write; retry shortly.') {
    super('SERVICE_UNAVAILABLE', message);
  }
}
