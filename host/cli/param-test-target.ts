// `wasm-rseq param-test --target FILE.wasm`: the command line's options to runTargetTest, the outcome
// printed, and the exit code (0 consistent, 1 not, with the replay line; usage errors are thrown).
import { UsageError } from '../errors.js';
import type { SupervisorOptions } from '../kernel/supervisor.js';
import { statsLines } from '../param-test/report.js';
import { TARGET_DEFAULTS, runTargetTest, type TargetTestOptions } from '../param-test/target.js';
import { traceSink, writeTrace } from './trace-file.js';

/** param-test's own options, which a check target (it has its own operations) does not take. */
const NOT_FOR_TARGETS: [key: string, flag: string][] = [
  ['T', '-T'], ['M', '-M'], ['d', '-d'], ['D', '-D'], ['mmCid', '--mm-cid'], ['broken', '--broken'],
  ...Array.from({ length: 9 }, (_, i) => [`${i + 1}`, `-${i + 1}`] as [string, string]),
];

/**
 * Run param-test --target from commander's options; `given(key)` says whether the user set an
 * option (the test types' defaults for -t and -r do not apply to a target: TARGET_DEFAULTS do).
 */
export async function paramTestTarget(
  o: Record<string, unknown>, supervisor: SupervisorOptions, given: (key: string) => boolean, log = console.log, err = console.error,
): Promise<number> {
  const stray = NOT_FOR_TARGETS.filter(([k]) => given(k)).map(([, f]) => f);
  if (stray.length) throw new UsageError(`${stray.join(', ')} ${stray.length > 1 ? 'do' : 'does'} not apply to --target (a check target has its own operations)`);
  const opts: TargetTestOptions = {
    target: o.target as string,
    threads: given('t') ? (o.t as number) : TARGET_DEFAULTS.threads, ops: given('r') ? (o.r as number) : TARGET_DEFAULTS.ops,
    cpus: o.cpus as number, bytes: o.bytes as number, instrument: !!o.instrument,
    modulo: o.m as number, yield: !!o.y, signal: !!o.k, sleepMs: o.s as number, seed: o.seed as number, supervisor, verbose: !!o.v,
  };
  const sink = traceSink(o);
  const r = await runTargetTest(opts, opts.verbose ? log : () => {}, sink);
  if (sink?.trace) err(writeTrace(o.trace as string, sink.trace));
  if (opts.verbose) for (const l of statsLines(r, { ...opts, detail: opts.instrument ? 'instrumented' : 'not instrumented' })) log(l);
  if (r.ok) return 0;
  err(`param-test FAILED: ${r.message}`);
  err(`replay: ${r.replay}`);
  return 1;
}
