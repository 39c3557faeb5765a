// The bench's own packages are devDependencies (a library user does not install them): find the
// first one missing before anything imports it, so the bench can say so in one line.
import { createRequire } from 'node:module';

/** Packages only the bench uses (package.json devDependencies). */
export const BENCH_DEPENDENCIES = ['autocannon', 'benchmark', 'chart.js', 'cli-progress', 'cli-table3'];

/** The first of `names` that does not resolve from the bench, or undefined if all do. */
export function missingDependency(names: readonly string[] = BENCH_DEPENDENCIES): string | undefined {
  const require = createRequire(import.meta.url);
  return names.find((n) => {
    try {
      require.resolve(n);
      return false;
    } catch {
      return true;
    }
  });
}

export const missingMessage = (name: string): string =>
  `wasm-rseq bench: missing dev dependency ${name} — run npm install in a clone of the repository`;
