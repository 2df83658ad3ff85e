import { describe, expect, it } from 'vitest';
import { CaptureError } from './errors.ts';
import { parseCaptureRequest } from './parse-request.ts';

const noQuery = new URLSearchParams();
const ev = (extra: Record<string, unknown> = {}) => ({ event: 'e', distinct_id: 'u', ...extra });

function codeOf(payload: unknown, query = noQuery): string | undefined {
  try {
    parseCaptureRequest(payload, query);
    return undefined;
  } catch (error) {
    return error instanceof CaptureError ? error.code : String(error);
  }
}

describe('parseCaptureRequest: payload shapes', () => {
  it('reads a bare array of events (posthog-js 1.200), token from properties', () => {
    const events = [ev({ properties: { token: 'phc_a' } }), ev({ properties: { token: 'phc_a' } })];
    const parsed = parseCaptureRequest(events, noQuery);
    expect(parsed.token).toBe('phc_a');
    expect(parsed.events).toEqual(events);
    expect(parsed.historicalMigration).toBe(false);
  });

  it('reads a batch object (posthog-node) with sent_at and historical_migration', () => {
    const parsed = parseCaptureRequest({ api_key: 'phc_a', batch: [ev()], sent_at: '2023-01-01T12:00:00Z', historical_migration: true }, noQuery);
    expect(parsed.token).toBe('phc_a');
    expect(parsed.events).toHaveLength(1);
    expect(parsed.sentAt?.toISOString()).toBe('2023-01-01T12:00:00.000Z');
    expect(parsed.historicalMigration).toBe(true);
  });

  it('accepts `token` as the batch-level key too', () => {
    expect(parseCaptureRequest({ token: 'phc_a', batch: [ev()] }, noQuery).token).toBe('phc_a');
  });

  it('treats only a literal true as historical_migration', () => {
    expect(parseCaptureRequest({ api_key: 'phc_a', batch: [ev()], historical_migration: 'true' }, noQuery).historicalMigration).toBe(false);
  });

  it('reads a single event object', () => {
    const parsed = parseCaptureRequest(ev({ api_key: 'phc_a' }), noQuery);
    expect(parsed.events).toEqual([ev({ api_key: 'phc_a' })]);
    expect(parsed.token).toBe('phc_a');
  });

  it('takes sent_at from the query (`sent_at` or `_`) when the body has none', () => {
    const viaUnderscore = parseCaptureRequest([ev({ token: 'phc_a' })], new URLSearchParams('_=1700000000000&ver=1.200.0'));
    const viaSentAt = parseCaptureRequest([ev({ token: 'phc_a' })], new URLSearchParams('sent_at=1700000000000'));
    expect(viaUnderscore.sentAt?.getTime()).toBe(1700000000000);
    expect(viaSentAt.sentAt?.getTime()).toBe(1700000000000);
  });

  it.each<[string, unknown, string]>([
    ['empty array', [], 'no_events'],
    ['empty batch', { api_key: 'phc_a', batch: [] }, 'no_events'],
    ['batch that is not an array', { api_key: 'phc_a', batch: { event: 'e' } }, 'invalid_payload'],
    ['string payload', 'hello', 'invalid_payload'],
    ['number payload', 42, 'invalid_payload'],
    ['null payload', null, 'invalid_payload'],
  ])('refuses %s with %s', (_name, payload, code) => {
    expect(codeOf(payload)).toBe(code);
  });
});

describe('parseCaptureRequest: token rules', () => {
  it.each<[string, unknown, string]>([
    ['batch token only', { api_key: 'phc_a', batch: [ev(), ev()] }, 'phc_a'],
    ['per-event `token`', [ev({ token: 'phc_a' })], 'phc_a'],
    ['per-event `$token`', [ev({ $token: 'phc_a' })], 'phc_a'],
    ['per-event `api_key`', [ev({ api_key: 'phc_a' })], 'phc_a'],
    ['`properties.token`', [ev({ properties: { token: 'phc_a' } })], 'phc_a'],
    ['tokens on some events only', [ev({ token: 'phc_a' }), ev()], 'phc_a'],
    ['batch token matching every event token', { api_key: 'phc_a', batch: [ev({ properties: { token: 'phc_a' } })] }, 'phc_a'],
    ['top-level token beats a stale properties.token on the same event', [ev({ token: 'phc_a', properties: { token: 'phc_old' } })], 'phc_a'],
    ['blank event token next to a real batch token', { api_key: 'phc_a', batch: [ev({ properties: { token: '' } })] }, 'phc_a'],
    ['surrounding whitespace is kept for the lookup to refuse', [ev({ token: ' phc_a ' })], ' phc_a '],
  ])('%s → %s', (_name, payload, token) => {
    expect(parseCaptureRequest(payload, noQuery).token).toBe(token);
  });

  it.each<[string, unknown, string]>([
    ['no token anywhere', [ev(), ev()], 'ingest_key_required'],
    ['empty batch token', { api_key: '', batch: [ev()] }, 'ingest_key_required'],
    ['whitespace-only token', [ev({ token: '   ' })], 'ingest_key_required'],
    ['non-string token', [ev({ token: 123 })], 'ingest_key_required'],
    ['two events, two tokens', [ev({ token: 'phc_a' }), ev({ token: 'phc_b' })], 'multiple_tokens'],
    ['batch token differs from an event token', { api_key: 'phc_a', batch: [ev({ properties: { token: 'phc_b' } })] }, 'multiple_tokens'],
    ['api_key and token disagree at batch level', { api_key: 'phc_a', token: 'phc_b', batch: [ev()] }, 'multiple_tokens'],
    ['one event with two different top-level tokens', [ev({ token: 'phc_a', api_key: 'phc_b' })], 'multiple_tokens'],
    ['personal key as batch token', { api_key: 'phx_secret', batch: [ev()] }, 'personal_key_not_allowed'],
    ['personal key in properties', [ev({ properties: { token: 'phx_secret' } })], 'personal_key_not_allowed'],
  ])('%s → %s', (_name, payload, code) => {
    expect(codeOf(payload)).toBe(code);
  });

  it('ignores inherited names: a polluted prototype cannot supply a token', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.api_key = 'phc_polluted';
    try {
      expect(codeOf({ batch: [ev()] })).toBe('ingest_key_required');
    } finally {
      delete proto.api_key;
    }
  });
});
