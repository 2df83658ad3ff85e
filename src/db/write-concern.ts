import type { WriteConcernSettings } from 'mongodb';

/**
 * Acknowledged means durable: a majority of data-bearing members have journaled the write
 * (the embedded store acknowledges after its log fsync). Set on every write that backs a 2xx.
 */
export const DURABLE: WriteConcernSettings = { w: 'majority', journal: true };
