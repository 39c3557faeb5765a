// umcg: a scheduling policy that matters, measured. Two UMCG servers (one per vCPU), each with one
// latency-critical worker (0.2 ms tasks released every 3 ms) and three batch workers (5 ms tasks);
// 8 workers on 2 vCPUs. FIFO (the kernel's order) vs a priority server that runs latency-critical
// workers first and preempts a batch worker for them (TF_PREEMPT + umcg_kick).
import { Kernel } from '../../host/index.js';
import { row } from '../harness.js';
import type { Impl, Metric, Runner, Suite } from '../suite.js';
import type { UmcgBenchResult, UmcgBenchWorker } from '../workers/umcg.js';

const impls: Impl[] = [
  { id: 'umcg-fifo', kind: 'plain', baseline: 'umcg-fifo', what: 'UMCG servers with FifoPolicy' },
  { id: 'umcg-priority', kind: 'plain', baseline: 'umcg-fifo', what: 'UMCG servers with PriorityPolicy: latency-critical first, preempting batch work' },
];

const metric = (key: string, label: string, unit: string, better: 'lower' | 'higher', format: (x: number) => string): Metric => ({ key, label, unit, better, format });
const ms = (x: number) => `${x.toFixed(2)} ms`;
const metrics: Metric[] = [
  metric('opsPerSec', 'batch tasks/s', 'tasks/s', 'higher', (x) => x.toFixed(0)),
  metric('nsPerOp', 'ns/task', 'ns', 'lower', (x) => x.toFixed(0)),
  metric('abortsPerOp', 'aborts/op', '/op', 'lower', (x) => x.toFixed(3)),
  metric('hiP50Ms', 'hi-prio p50', 'ms', 'lower', ms),
  metric('hiP99Ms', 'hi-prio p99', 'ms', 'lower', ms),
  metric('hiTasks', 'hi-prio tasks', '', 'higher', (x) => x.toFixed(0)),
  metric('preempts', 'preempts', '', 'higher', (x) => x.toFixed(0)),
];

const WORKER = new URL('../workers/umcg.js', import.meta.url);
const CPUS = 2;
const PER_SERVER = 4;
const pct = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;

export async function runUmcgCase(policy: 'fifo' | 'priority', runMs: number, seed = 1, sliceMs = 2) {
  const k = await Kernel.create({ cpus: CPUS, threads: CPUS + CPUS * PER_SERVER, seed, supervisor: { sliceMs } });
  try {
    const servers = [...Array(CPUS).keys()].map((s) => ({ slot: s, task: k.alloc(64, 64) }));
    const workers = servers.flatMap((s, si) => [...Array(PER_SERVER).keys()].map((i) => {
      const slot = CPUS + si * PER_SERVER + i;
      return { slot, tid: slot + 1, task: k.alloc(64, 64), server: s.slot + 1, high: i === 0 };
    }));
    const srv = servers.map((s) => {
      const mine = workers.filter((w) => w.server === s.slot + 1);
      return k.runScript<{ preempts: number; switches: number }>(s.slot, WORKER, 'umcgBenchServer', s.task,
        mine.map(({ tid, task }) => ({ tid, task })), policy, mine.filter((w) => w.high).map((w) => w.tid));
    });
    const ws = workers.map((w) => k.runScript<UmcgBenchResult>(w.slot, WORKER, 'umcgBenchWorker', {
      task: w.task, serverTid: w.server, high: w.high, runMs, shortMs: 0.2, longMs: 5, periodMs: 3,
    } satisfies UmcgBenchWorker));
    const rs = await Promise.all(ws);
    const ss = await Promise.all(srv);
    const hi = rs.filter((_, i) => workers[i].high).flatMap((r) => r.value.latencies).sort((a, b) => a - b);
    const batch = rs.filter((_, i) => !workers[i].high).reduce((a, r) => a + r.value.tasks, 0);
    return {
      hiP50Ms: pct(hi, 0.5), hiP99Ms: pct(hi, 0.99), hiTasks: hi.length, batchPerSec: batch / (runMs / 1000),
      preempts: ss.reduce((a, s) => a + s.value.preempts, 0), switches: ss.reduce((a, s) => a + s.value.switches, 0),
    };
  } finally {
    await k.close();
  }
}

const runner: Runner = {
  units: (suite) => suite.impls.length,
  async run({ suite, o, progress, note }) {
    const out = [];
    const runMs = Math.max(500, o.sampleMs * 5);
    for (const impl of suite.impls) {
      progress.step(`umcg ${impl.id}`, 1);
      const r = await runUmcgCase(impl.id === 'umcg-fifo' ? 'fifo' : 'priority', runMs, o.seed, o.sliceMs);
      out.push(row(suite, impl, { threads: CPUS * PER_SERVER, vcpus: CPUS, injectHz: 0 }, {
        opsPerSec: r.batchPerSec, nsPerOp: 1e9 / Math.max(1, r.batchPerSec), abortsPerOp: 0,
        hiP50Ms: r.hiP50Ms, hiP99Ms: r.hiP99Ms, hiTasks: r.hiTasks, preempts: r.preempts,
      }, { samples: 1, spread: [r.batchPerSec, r.batchPerSec], itersPerThread: 0 }));
    }
    note(`${CPUS} servers x (1 latency-critical worker: 0.2 ms tasks every 3 ms + 3 batch workers: 5 ms tasks); ${runMs} ms per case`);
    return out;
  },
};

export const umcg: Suite = {
  id: 'umcg', title: 'UMCG servers: FIFO vs priority policy, 8 workers on 2 vCPUs', impls, runner, metrics,
  columns: ['opsPerSec', 'hiP50Ms', 'hiP99Ms', 'hiTasks', 'preempts'], baseline: 'the FIFO server',
};
