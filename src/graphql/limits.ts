/** Query shape limits; one place so the schema, the server and the tests agree. */

/** Largest page any connection returns; larger `first` values are refused, not silently cut. */
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 100;

/** Schema-aware cost: list fields multiply their children's cost by the page size asked for. */
export const COMPLEXITY_LIMIT = { complexity: 50_000, depth: 12, breadth: 200 };

/**
 * Document-shape limits enforced before execution. The shape cost multiplies by literal `first`
 * arguments and compounds 1.5× per level, so it must leave room for one full page of events
 * (`projects(first: 1) { … events(first: 1000) { … } }` costs about 150 000); the schema-aware
 * {@link COMPLEXITY_LIMIT} is the precise bound and also covers `first` passed as a variable.
 */
export const ARMOR_LIMITS = { maxDepth: 12, maxAliases: 15, maxDirectives: 50, maxTokens: 2_000, maxCost: 250_000 };

/** Largest WebSocket message accepted; subscribe messages are small, so this is far below ws's 100 MiB default. */
export const WS_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Fragments per message and buffered chunks per socket (ws's defaults allow far more than our small messages need). */
export const WS_MAX_FRAGMENTS = 64;
export const WS_MAX_BUFFERED_CHUNKS = 4096;
/** Subscriptions one socket may hold at once. */
export const WS_MAX_SUBSCRIPTIONS = 50;
/** Time a client has to authenticate with `connection_init` before the socket is closed with 4408. */
export const WS_CONNECTION_INIT_TIMEOUT_MS = 3_000;
