import { defineOwn } from '../json-values.ts';

/**
 * `Object.assign(target, ...sources)` that copies a source's own `__proto__` key as data, as the rest
 * of ingestion does, instead of letting it replace the target's prototype.
 *
 * Why not spread: on this hot path, `{ ...a, ...b }` and adding keys to a spread copy both hit a slow
 * path in V8 (~50 µs per event measured), while Object.assign into a fresh object stays at ~3 µs.
 */
export function assignData(
  target: Record<string, unknown>,
  ...sources: ReadonlyArray<object | undefined>
): Record<string, unknown> {
  for (const source of sources) {
    if (source === undefined) continue;
    if (!Object.hasOwn(source, '__proto__')) {
      Object.assign(target, source);
      continue;
    }
    for (const [key, value] of Object.entries(source)) defineOwn(target, key, value);
  }
  return target;
}
