import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A high-entropy random string in base62 (about 5.95 bits per character). */
export function randomBase62(length: number): string {
  let out = '';
  // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** Prefixes tell a leaked string's kind at a glance, as PostHog's do. */
export const PROJECT_TOKEN_PREFIX = 'phc_';
export const PERSONAL_KEY_PREFIX = 'phx_';
export const ADMIN_KEY_PREFIX = 'sla_';

/** A new public capture token for a project. */
export function newProjectToken(): string {
  return PROJECT_TOKEN_PREFIX + randomBase62(40);
}

/** A new secret personal API key. */
export function newPersonalKey(): string {
  return PERSONAL_KEY_PREFIX + randomBase62(40);
}

/** A new admin key for the embedded development setup. */
export function newAdminKey(): string {
  return ADMIN_KEY_PREFIX + randomBase62(40);
}

/**
 * The stored form of a secret. Unsalted SHA-256 is enough for 238-bit random keys (no dictionary to
 * attack) and lets a key be found by an indexed equality lookup instead of comparing plaintext.
 */
export function secureValueOf(secret: string): string {
  return `sha256$${createHash('sha256').update(secret).digest('hex')}`;
}

/** `phx_...a1b2`: enough to recognise a key in a list, useless to an attacker. */
export function maskOf(secret: string): string {
  return `${secret.slice(0, 4)}...${secret.slice(-4)}`;
}

/** Constant-time comparison of two secrets of any length (digests have equal length, as timingSafeEqual needs). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
