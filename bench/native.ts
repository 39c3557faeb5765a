// Native rows: a C program on the real kernel's rseq (bench/native/<name>.c), built with the machine's
// C compiler into build/native/ (one binary per source + compiler + flags, rebuilt when one changes)
// and run with the run's sample time and repeat count. It prints one JSON object whose rows are the
// suite's `native` implementations. Where it cannot run (not x86-64 Linux, no compiler, the build
// fails, rseq not registered) the runner skips its rows with one line saying why.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CheckError } from './checks.js';
import { row } from './harness.js';
import type { MeasureOptions } from './measure.js';
import type { Result } from './result.js';
import type { Runner, Suite } from './suite.js';

const ROOT = new URL('../../', import.meta.url);
export const NATIVE_DIR = fileURLToPath(new URL('build/native/', ROOT));
const FLAGS = ['-O2', '-pthread', '-Wall'];

/** A native program's output: its machine and rows (bench/native/rseq_bench.c). */
export interface NativeReport {
  cpuModel: string;
  cpus: number;
  pinned: boolean;
  rseqSize: number;
  sampleMs: number;
  repeat: number;
  rows: { impl: string; threads: number; opsPerSec: number; nsPerOp: number; abortsPerOp: number; samples: number; spread: [number, number] }[];
}

/** Exit status of the program when rseq is unavailable (it prints {"skip": why}). */
export const EXIT_UNAVAILABLE = 3;

/** The C compiler to use: $CC, else cc, else gcc; or why there is none. */
export function compiler(env: NodeJS.ProcessEnv = process.env): { cc: string; version: string } | { why: string } {
  const candidates = env.CC ? [env.CC] : ['cc', 'gcc'];
  for (const cc of candidates) {
    const r = spawnSync(cc, ['--version'], { encoding: 'utf8', env });
    if (!r.error && r.status === 0) return { cc, version: r.stdout.split('\n')[0] };
  }
  return { why: env.CC ? `no C compiler (CC=${env.CC} not found)` : 'no C compiler (cc) on PATH' };
}

/** Why native rows cannot run on this platform, or undefined. */
export function platformWhy(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.arch !== 'x64') return `not x86-64 (${process.arch})`;
  return undefined;
}

/** Build bench/native/<name>.c into build/native/ (cached by source, compiler and flags): the binary, or why not. */
export function build(name: string, env: NodeJS.ProcessEnv = process.env): { bin: string; cc: string } | { why: string } {
  const why = platformWhy();
  if (why) return { why };
  const c = compiler(env);
  if ('why' in c) return c;
  const source = fileURLToPath(new URL(`bench/native/${name}.c`, ROOT));
  if (!existsSync(source)) return { why: `source ${source} not found` };
  const hash = createHash('sha256').update(readFileSync(source)).update(`\0${c.cc}\0${c.version}\0${FLAGS.join(' ')}`).digest('hex').slice(0, 12);
  const bin = `${NATIVE_DIR}${name}-${hash}`;
  if (existsSync(bin)) return { bin, cc: c.cc };
  mkdirSync(NATIVE_DIR, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync(c.cc, [...FLAGS, '-o', tmp, source], { encoding: 'utf8', env });
  if (r.error || r.status !== 0) {
    const first = (r.stderr || String(r.error ?? '')).split('\n').find((l) => /error/i.test(l)) ?? r.stderr.split('\n')[0];
    return { why: `the build failed (${c.cc}: ${first.trim()})` };
  }
  renameSync(tmp, bin);
  // Binaries of older sources (or other compilers) are not used again.
  for (const f of readdirSync(NATIVE_DIR)) if (f.startsWith(`${name}-`) && `${NATIVE_DIR}${f}` !== bin && !f.endsWith('.tmp')) rmSync(`${NATIVE_DIR}${f}`, { force: true });
  return { bin, cc: c.cc };
}

/** Run a built native program: its report, or why rseq is unavailable; throws CheckError if it failed its checks. */
export function runNative(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<NativeReport | { why: string }> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { encoding: 'utf8', env, timeout: 600_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number | string }).code : 0;
      if (code === EXIT_UNAVAILABLE) {
        try { resolve({ why: (JSON.parse(stdout) as { skip: string }).skip }); } catch { resolve({ why: 'rseq unavailable' }); }
        return;
      }
      if (code === 1) return reject(new CheckError(`native: ${stderr.trim()}`));
      if (err) return reject(new Error(`native program ${bin} failed: ${stderr.trim() || err.message}`));
      try { resolve(JSON.parse(stdout) as NativeReport); } catch (e) { reject(new Error(`native program ${bin}: bad JSON (${String(e)})`)); }
    });
  });
}

/** Thread counts the suite's native implementations are measured at with options `o`. */
const threadsOf = (suite: Suite, o: MeasureOptions) =>
  o.threads.filter((t) => suite.impls.some((i) => (i.onlyThreads ?? o.threads).includes(t)));

/**
 * The runner of a suite's native implementations: build and run bench/native/<name>.c with the run's
 * sample time (--quick shortens it) and repeat count; its rows become the suite's rows.
 */
export function nativeRunner(name: string, extraArgs: string[] = []): Runner {
  return {
    units: (suite, o) => threadsOf(suite, o).length * suite.impls.length,
    async run({ suite, o, progress, skip, note }) {
      const threads = threadsOf(suite, o);
      if (threads.length === 0) return [];
      progress.step(`${suite.id} native (building)`, 0);
      const b = build(name);
      if ('why' in b) { skip('native rows', b.why); return []; }
      progress.step(`${suite.id} native x${threads.join(',')}`, 0);
      const rep = await runNative(b.bin, ['--sample-ms', String(o.sampleMs), '--repeat', String(o.repeat), '--threads', threads.join(','), ...extraArgs]);
      progress.step(`${suite.id} native`, threads.length * suite.impls.length);
      if ('why' in rep) { skip('native rows', rep.why); return []; }
      note(`native rows: ${name}.c built by ${b.cc}; threads ${rep.pinned ? 'pinned' : 'not pinned'}; ${rep.cpuModel}; __rseq_size ${rep.rseqSize}`);
      const out: Result[] = [];
      for (const impl of suite.impls) {
        for (const t of threads) {
          if (!(impl.onlyThreads ?? o.threads).includes(t)) continue;
          const r = rep.rows.find((x) => x.impl === impl.id && x.threads === t);
          if (!r) throw new Error(`native program ${name}: no row for ${impl.id} at ${t} threads`);
          out.push(row(suite, impl, { threads: t, vcpus: rep.cpus, injectHz: 0 },
            { opsPerSec: r.opsPerSec, nsPerOp: r.nsPerOp, abortsPerOp: r.abortsPerOp },
            { samples: r.samples, spread: r.spread, itersPerThread: 0 }));
        }
      }
      return out;
    },
  };
}
