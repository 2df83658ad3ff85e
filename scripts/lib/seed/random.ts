import { v7 as uuidv7 } from 'uuid';
import { prng } from '../prng.ts';

/** Items with relative weights. */
export type Weighted<T> = ReadonlyArray<readonly [T, number]>;

/**
 * One seeded stream of random draws (mulberry32 from scripts/lib/prng.ts) with the shapes the seed
 * generator needs. Streams are keyed (see {@link keyed}) rather than shared, so what one user or one
 * session draws never depends on how many draws anything else made: changing the activity level or
 * the number of users leaves every other stream as it was.
 */
export class Rng {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = prng(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: ReadonlyArray<T>): T {
    return items[this.int(items.length)]!;
  }

  weighted<T>(items: Weighted<T>): T {
    let r = this.next() * items.reduce((sum, [, w]) => sum + w, 0);
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Standard normal (Box-Muller; two uniforms per draw so the stream length stays fixed). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Log-normal with the given median and spread (sigma of the log), clamped to [min, max]. */
  logNormal(median: number, sigma: number, min = 0, max = Infinity): number {
    return Math.min(max, Math.max(min, median * Math.exp(sigma * this.normal())));
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** 32 random bits. */
  uint32(): number {
    return Math.floor(this.next() * 4294967296) >>> 0;
  }
}

/**
 * A 32-bit seed mixed from the run's seed and any number of integer keys (user, day, slot, …): the
 * murmur3 finaliser over each key, so neighbouring keys give unrelated streams.
 */
export function keyed(seed: number, ...keys: number[]): number {
  let h = seed >>> 0;
  for (const key of keys) {
    h ^= Math.imul((key | 0) ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A stream for the given keys. */
export function rngFor(seed: number, ...keys: number[]): Rng {
  return new Rng(keyed(seed, ...keys));
}

/** A uuidv7 at `ms` whose other bits come from `rng` (as posthog-js makes event, session and device ids, but reproducible). */
export function uuid7(ms: number, rng: Rng): string {
  const random = new Uint8Array(16);
  for (let i = 0; i < 16; i += 4) {
    const x = rng.uint32();
    random[i] = x & 0xff;
    random[i + 1] = (x >>> 8) & 0xff;
    random[i + 2] = (x >>> 16) & 0xff;
    random[i + 3] = x >>> 24;
  }
  return uuidv7({ msecs: ms, random });
}

/**
 * Poisson draw from one uniform by inverting the CDF, so that for a fixed uniform the count never
 * decreases as `lambda` grows (the activity calibration relies on that).
 */
export function poisson(u: number, lambda: number): number {
  if (lambda <= 0) return 0;
  let p = Math.exp(-lambda);
  let cdf = p;
  let k = 0;
  while (u > cdf && k < 50) {
    k += 1;
    p *= lambda / k;
    cdf += p;
  }
  return k;
}
