/**
 * Errors the store reports to clients, with MongoDB's numeric codes and code names so that the
 * official driver raises the same `MongoServerError`s it raises against a real server.
 */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  Overflow: 15,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  CommandNotFound: 59,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  OperationNotSupportedInTransaction: 263,
  ChangeStreamHistoryLost: 286,
  NotWritablePrimary: 10107,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  InvalidIdField: 53,
  DollarPrefixedFieldName: 52,
  EmptyFieldName: 56,
  DottedFieldName: 57,
  Location40324: 40324,
  ImmutableField: 66,
  InvalidPipelineOperator: 168,
  ConflictingUpdateOperators: 40,
  UnknownError: 8,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

/** An error that becomes `{ ok: 0, code, codeName, errmsg, ...extra }` on the wire. */
export class StoreError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Record<string, unknown>;

  constructor(codeName: ErrorCodeName, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'StoreError';
    this.codeName = codeName;
    this.code = ErrorCodes[codeName];
    this.extra = extra;
  }

  /** The error as a write error entry (`writeErrors[i]`) or command reply fields. */
  toDocument(): Record<string, unknown> {
    return { code: this.code, codeName: this.codeName, errmsg: this.message, ...this.extra };
  }
}

/** Wraps anything thrown by the query/aggregation library into a client-facing error without leaking a stack. */
export function toStoreError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  for (const [pattern, codeName] of MINGO_MESSAGES) if (pattern.test(message)) return new StoreError(codeName, message);
  if (error instanceof Error && error.constructor.name !== 'MingoError') return new StoreError('InternalError', message);
  return new StoreError('BadValue', message);
}

// mingo's messages for conditions MongoDB reports with a specific code.
const MINGO_MESSAGES: Array<[RegExp, ErrorCodeName]> = [
  [/unregistered pipeline operator/i, 'Location40324'],
  [/unregistered (expression|accumulator|window) operator|unknown (expression|accumulator) operator|' is not registered/i, 'InvalidPipelineOperator'],
  [/unknown update operator/i, 'FailedToParse'],
  [/immutable field '_id'/i, 'ImmutableField'],
];
