/**
 * Command-line options for the benchmarks: argv `--name value` or `--name=value`, else env BENCH_<NAME>.
 * The same conventions as scripts/bench/store.ts, so every benchmark is driven the same way.
 */

export function option(name: string): string | undefined {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) {
      const next = argv[i + 1];
      return next === undefined || next.startsWith('--') ? 'true' : next;
    }
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
}

/** A positive integer option; `200_000` and `200,000` are accepted. */
export function intOption(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return value;
}
