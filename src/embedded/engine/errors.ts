/**
 * Errors the store reports to clients, with MongoDB's numeric codes and code names so that the
 * official driver raises the same `MongoServerError`s it raises against a real server.
 */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  Unauthorized: 13,
  TypeMismatch: 14,
  Overflow: 15,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  InvalidPipelineOperator: 168,
  ChangeStreamHistoryLost: 286,
  UnsupportedOpQueryCommand: 352,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  MergeStageNoMatchingDocument: 13113,
  // MongoDB reports some conditions only by the number of the source location that raises them.
  Location16020: 16020,
  Location40323: 40323,
  Location40324: 40324,
  Location40485: 40485,
  Location51132: 51132,
  Location51183: 51183,
  Location5439012: 5439012,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

/** An error that becomes `{ ok: 0, code, codeName, errmsg }` plus details such as `keyPattern` on the wire. */
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
    return { ...this.extra, code: this.code, codeName: this.codeName, errmsg: this.message };
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
