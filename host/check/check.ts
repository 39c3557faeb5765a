// `wasm-rseq check`: find rseq bugs in a user's critical sections deterministically. The module
// (built with the preset) exports check_setup / check_op / check_verify; it is instrumented at load
// (a point before every memory access) and run on real kernel threads, one at a time, the run token
// passing at points as the schedule says (host/check/runtime.ts). Modes: DFS over every schedule
// with at most `bound` non-continue decisions (stateless: each schedule replays from a fresh
// state), or PCT-style random schedules. A schedule is a string that replays exactly.
import { UsageError } from '../errors.js';
import { engineOf } from '../kernel/kernel.js';
import { Kernel } from '../kernel/kernel.js';
import { prng } from '../kernel/prng.js';
import type { Abi } from '../abi.js';
import { chromeTrace, type CheckEvent } from './trace.js';
import type { ChromeTrace } from '../trace/chrome.js';

export interface CheckOptions {
  /** The module: a path or its bytes. */
  module: string | Uint8Array;
  threads: number;
  ops: number;
  /** vCPUs (default 2). */
  cpus?: number;
  /** Bytes of the zeroed per-vCPU region handed to check_* as `base` (default 4096). */
  bytes?: number;
  /** DFS with at most this many non-continue decisions per schedule (default 2). */
  bound?: number;
  /** Random schedules instead of DFS. */
  pct?: { runs: number; seed: number; depth?: number };
  /** Run this one schedule (a string printed by a failure). */
  replay?: string;
  /** Stop after this many schedules (default unlimited). */
  maxSchedules?: number;
  /** Record the failing or replayed schedule's events (CheckResult.trace, Chrome Trace JSON). */
  trace?: boolean;
  /** The file name to print in the replay line (default the module path). */
  file?: string;
  /** With `replay`: run it this many times (default 1); CheckResult.identical counts the runs that matched the first. */
  repeat?: number;
}

export interface CheckFailure {
  schedule: string;
  /** What check_verify returned (0 when the failure is an error). */
  verify: number;
  error?: string;
  /** Schedules run up to and including the failing one. */
  schedulesToFailure: number;
  replay: string;
}

export interface CheckResult {
  ok: boolean;
  schedules: number;
  seconds: number;
  perSecond: number;
  /** Decision points of the first schedule (the one that never switches). */
  points: number;
  failure?: CheckFailure;
  /** Chrome Trace Event JSON of the failing (or replayed) schedule, with `trace: true`. */
  trace?: ChromeTrace;
  /** With `replay` and `repeat`: runs whose outcome (status, verify result, decisions) matched the first. */
  identical?: number;
}

type Choice = [index: number, code: number];

const letter = (abi: Abi, code: number): string => {
  if (code >= abi.CHK_C_SWITCH && code < abi.CHK_C_PREEMPT) return `s${code - abi.CHK_C_SWITCH}`;
  if (code >= abi.CHK_C_PREEMPT && code < abi.CHK_C_MIGRATE) return `p${code - abi.CHK_C_PREEMPT}`;
  if (code === abi.CHK_C_MIGRATE) return 'm';
  if (code === abi.CHK_C_SIGNAL) return 'k';
  return `?${code}`;
};

/** A schedule as a string: `<decision index><s|p thread | m | k>` joined by '.', '-' for none. */
export function encodeSchedule(abi: Abi, choices: readonly Choice[]): string {
  return choices.length ? choices.map(([i, c]) => `${i}${letter(abi, c)}`).join('.') : '-';
}

export function decodeSchedule(abi: Abi, s: string): Choice[] {
  if (s === '-' || s === '') return [];
  let last = -1;
  return s.split('.').map((part) => {
    const m = /^(\d+)([spmk])(\d*)$/.exec(part);
    if (!m) throw new UsageError(`--replay: bad schedule entry '${part}' (want e.g. 12s1, 7p0, 3m, 9k)`);
    const i = Number(m[1]);
    if (i <= last) throw new UsageError(`--replay: decision indices must increase ('${part}')`);
    last = i;
    const u = Number(m[3] || 0);
    if ((m[2] === 's' || m[2] === 'p') && (m[3] === '' || u >= abi.CHK_MAX_THREADS)) throw new UsageError(`--replay: '${part}' needs a thread number`);
    const code = m[2] === 's' ? abi.CHK_C_SWITCH + u : m[2] === 'p' ? abi.CHK_C_PREEMPT + u : m[2] === 'm' ? abi.CHK_C_MIGRATE : abi.CHK_C_SIGNAL;
    return [i, code] as Choice;
  });
}

interface RunResult { status: number; verify: number; points: number; alts: Int32Array; applied: Choice[]; events?: CheckEvent[] }

/** Run the checker. Rejects with UsageError on bad options or a module without the check exports. */
export async function check(o: CheckOptions): Promise<CheckResult> {
  const threads = o.threads, ops = o.ops, cpus = o.cpus ?? 2, bytes = o.bytes ?? 4096, bound = o.bound ?? 2;
  const int = (x: number, name: string, min: number, max: number) => {
    if (!Number.isInteger(x) || x < min || x > max) throw new UsageError(`check: ${name} must be an integer in [${min}, ${max}], got ${x}`);
  };
  int(threads, 'threads', 1, 8); int(ops, 'ops', 1, 1 << 20); int(cpus, 'cpus', 1, 32); int(bytes, 'bytes', 8, 1 << 20); int(bound, 'bound', 0, 64);
  let poolStride = 4096;
  while (poolStride < bytes) poolStride *= 2;
  const kernel = await Kernel.create({ cpus, threads, supervisor: false, poolStride });
  const e = engineOf(kernel);
  const { abi, view: v } = e;
  const started = Date.now();
  let ctl = 0;
  let loops: Promise<unknown>[] = [];
  let loopError: Error | undefined;
  try {
    const m = await e.load(o.module, { name: 'check', instrument: true });
    for (const f of ['check_setup', 'check_op', 'check_verify']) {
      if (!m.exports.includes(f)) throw new UsageError(`check: the module does not export ${f} (see README "Checking your critical sections")`);
    }
    const control = e.alloc(abi.CHK_SIZE, 128);
    ctl = control;
    const base = e.allocPerCpu(bytes);
    const cs = e.defineCriticalSection();
    const spec = { kind: 'explore' as const, control, threads };
    const job = { module: m.id, control, threads, ops, cs, base };
    const cw = (off: number, x: number) => { v.store(control + off, x); };
    const cr = (off: number) => v.load(control + off);
    loops = e.startCheck(spec, job).map((p) => p.catch((err: Error) => { loopError ??= err; }));
    let gen = 0;

    const runOne = async (choices: readonly Choice[], tracing: boolean): Promise<RunResult> => {
      if (choices.length > abi.CHK_MAX_CHOICES) throw new UsageError(`check: a schedule has at most ${abi.CHK_MAX_CHOICES} choices`);
      cw(abi.CHK_NCHOICE, choices.length);
      choices.forEach(([i, c], k) => { cw(abi.CHK_CHOICES + 8 * k, i); cw(abi.CHK_CHOICES + 8 * k + 4, c); });
      for (const off of [abi.CHK_POS, abi.CHK_NEXT, abi.CHK_DONE, abi.CHK_SWITCHES, abi.CHK_STATUS, abi.CHK_VERIFY, abi.CHK_NEVENT, abi.CHK_SETUP]) cw(off, 0);
      cw(abi.CHK_TRACING, tracing ? 1 : 0);
      cw(abi.CHK_NTHREADS, threads);
      v.u8.fill(0, control + abi.CHK_THREADS, control + abi.CHK_THREADS + threads * abi.CHK_THREAD_SIZE);
      for (let t = 0; t < threads; t++) {
        cw(abi.CHK_THREADS + t * abi.CHK_THREAD_SIZE + abi.CHK_T_PREFER, -1);
        const r = e.sched.thread(t);
        const area = v.load(r + abi.T_AREA);
        v.store(area + abi.RSEQ_CPU_ID_START, 0); v.store(area + abi.RSEQ_CPU_ID, 0); v.store(area + abi.RSEQ_MM_CID, 0);
        v.store64(area + abi.RSEQ_CS, 0n);
        v.store(r + abi.T_LAST_CPU, -1); v.store(r + abi.T_LAST_CID, -1); v.store(r + abi.T_EVENTS, 0);
      }
      for (let c = 0; c < cpus; c++) v.u8.fill(0, base + c * e.plan.poolStride, base + c * e.plan.poolStride + bytes);
      cw(abi.CHK_TOKEN, 0);
      gen++;
      Atomics.store(v.i32, (control + abi.CHK_GEN) >> 2, gen);
      Atomics.notify(v.i32, (control + abi.CHK_GEN) >> 2);
      const fi = (control + abi.CHK_FINISHED) >> 2;
      const t0 = Date.now();
      let hung = false;
      for (let f = Atomics.load(v.i32, fi); f !== gen; f = Atomics.load(v.i32, fi)) {
        const w = Atomics.waitAsync(v.i32, fi, f, 1000);
        if (w.async) await w.value;
        if (Date.now() - t0 > 5_000) { hung = true; break; }
      }
      const points = Math.min(cr(abi.CHK_POS), abi.CHK_MAX_POINTS);
      const alts = v.i32.slice((control + abi.CHK_ALTS) >> 2, ((control + abi.CHK_ALTS) >> 2) + points);
      const applied: Choice[] = [];
      for (let k = 0; k < cr(abi.CHK_NEXT); k++) applied.push([cr(abi.CHK_CHOICES + 8 * k), cr(abi.CHK_CHOICES + 8 * k + 4)]);
      let events: CheckEvent[] | undefined;
      if (tracing) {
        events = [];
        for (let k = 0; k < cr(abi.CHK_NEVENT); k++) {
          const a = control + abi.CHK_EVENTS + k * abi.CHK_EVENT_SIZE;
          events.push({ kind: v.load(a), thread: v.load(a + 4), cpu: v.load(a + 8), arg: v.load(a + 12) });
        }
      }
      if (hung) {
        const st = Array.from({ length: threads }, (_, t) => {
          const tw = (f: number) => cr(abi.CHK_THREADS + t * abi.CHK_THREAD_SIZE + f);
          return `thread ${t}: step ${tw(abi.CHK_T_STEP)} done ${tw(abi.CHK_T_DONE)} wants a vCPU ${tw(abi.CHK_T_WANT)} vCPU ${v.load(e.sched.thread(t) + abi.T_VCPU)}`;
        });
        loopError ??= new Error(`the schedule did not finish within 5 s (token at thread ${cr(abi.CHK_TOKEN)}; ${st.join('; ')})`);
      }
      return { status: hung ? abi.CHK_ERROR : cr(abi.CHK_STATUS), verify: cr(abi.CHK_VERIFY), points, alts, applied, events };
    };

    const file = o.file ?? (typeof o.module === 'string' ? o.module : 'FILE.wasm');
    const replayLine = (s: string) => `wasm-rseq check ${file} --threads ${threads} --ops ${ops} --cpus ${cpus}${bytes !== 4096 ? ` --bytes ${bytes}` : ''} --replay ${s}`;
    let schedules = 0;
    let firstPoints = -1;
    let failure: CheckFailure | undefined;
    let trace: ChromeTrace | undefined;
    let identical: number | undefined;

    const judge = async (r: RunResult): Promise<boolean> => {
      schedules++;
      if (firstPoints < 0) firstPoints = r.points;
      if (r.status === abi.CHK_OK) return false;
      if (r.status === abi.CHK_DIVERGED) {
        if (o.replay !== undefined) throw new UsageError(`check: schedule '${o.replay}' does not fit this module/options (no such choice at a decision point)`);
        return false;
      }
      await new Promise((res) => setTimeout(res, 20));
      const schedule = encodeSchedule(abi, r.applied);
      failure = {
        schedule, verify: r.verify, schedulesToFailure: schedules, replay: replayLine(schedule),
        error: r.status === abi.CHK_ERROR ? (loopError?.message ?? 'the schedule did not finish (deadlock or a thread died)') : undefined,
      };
      return true;
    };

    const wantTrace = !!o.trace;
    if (o.replay !== undefined) {
      const choices = decodeSchedule(abi, o.replay);
      const r = await runOne(choices, wantTrace);
      const key = (x: RunResult) => `${x.status}/${x.verify}/${x.points}/${encodeSchedule(abi, x.applied)}/${Array.from(x.alts).join(',')}`;
      const first = key(r);
      identical = 1;
      for (let k = 1; k < (o.repeat ?? 1); k++) if (key(await runOne(choices, false)) === first) identical++;
      await judge(r);
      if (r.events) trace = chromeTrace(abi, r.events, threads, cpus);
    } else if (o.pct) {
      const { runs, seed } = o.pct;
      const depth = o.pct.depth ?? 3;
      const rnd = prng(seed);
      let est = (await runOne([], false)).points;
      schedules++;
      firstPoints = est;
      for (let k = 1; k < runs && !failure; k++) {
        if (o.maxSchedules && schedules >= o.maxSchedules) break;
        const n = 1 + Math.floor(rnd() * Math.max(1, depth - 1));
        const idx = new Set<number>();
        while (idx.size < Math.min(n, Math.max(1, est))) idx.add(Math.floor(rnd() * Math.max(1, est)));
        const choices = [...idx].sort((a, b) => a - b).map((i) => [i, -1 - Math.floor(rnd() * 1e6)] as Choice);
        const r = await runOne(choices, false);
        est = Math.max(est, r.points);
        await judge(r);
      }
    } else {
      const stack: { choices: Choice[]; last: number }[] = [{ choices: [], last: -1 }];
      while (stack.length && !failure) {
        if (o.maxSchedules && schedules >= o.maxSchedules) break;
        const s = stack.pop()!;
        const r = await runOne(s.choices, false);
        if (await judge(r)) break;
        if (s.choices.length >= bound || r.status !== abi.CHK_OK) continue;
        for (let i = r.points - 1; i > s.last; i--) {
          const mask = r.alts[i] & 0xffffff;
          for (let c = 23; c >= 1; c--) if (mask & (1 << c)) stack.push({ choices: [...s.choices, [i, c]], last: i });
        }
      }
    }
    if (failure && wantTrace && !trace && !failure.error) {
      const r = await runOne(decodeSchedule(abi, failure.schedule), true);
      if (r.events) trace = chromeTrace(abi, r.events, threads, cpus);
    }
    const seconds = (Date.now() - started) / 1000;
    return { ok: !failure, schedules, seconds, perSecond: schedules / Math.max(seconds, 1e-3), points: firstPoints, failure, trace, identical };
  } finally {
    if (ctl) {
      // Leave the loops: every worker sees CHK_QUIT at its next wait.
      v.store(ctl + abi.CHK_QUIT, 1);
      for (const off of [abi.CHK_GEN, abi.CHK_TOKEN]) { Atomics.add(v.i32, (ctl + off) >> 2, 1 << 20); Atomics.notify(v.i32, (ctl + off) >> 2); }
      await Promise.race([Promise.all(loops), new Promise((res) => setTimeout(res, 2000))]);
    }
    await kernel.close();
  }
}
