// service: examples/http-service under load on 127.0.0.1, with its metrics kept per vCPU
// (wasm-rseq Counter / Histogram), with Atomics.add on shared words, and with no metrics; a real
// load generator (autocannon), bounded in time. Its own runner: each run is a server process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { type TargetDef } from '../analysis.js';
import { row } from '../harness.js';
import { rate } from '../report/format.js';
import type { Impl, Metric, Runner, Suite } from '../suite.js';

const SERVER = fileURLToPath(new URL('../../../examples/http-service/server.js', import.meta.url));
const CONNECTIONS = 16;
/** Pool workers per vCPU (oversubscribed like a service with more tasks than cores). */
const WORKERS_PER_VCPU = 2;

const impls: Impl[] = [
  { id: 'per-vcpu', kind: 'rseq', baseline: 'atomics', what: 'per-route Counter.add + Histogram.record on the worker\'s vCPU (wasm-rseq JS API)' },
  { id: 'atomics', kind: 'atomic', baseline: 'atomics', what: 'the same metrics as Atomics.add on shared words' },
  { id: 'none', kind: 'plain', baseline: 'atomics', what: 'no metrics (the ceiling)' },
];

const ms = (x: number) => `${x.toFixed(2)} ms`;
const requestsPerSec: Metric = { key: 'requestsPerSec', label: 'req/s', unit: 'req/s', better: 'higher', format: rate };
const p50Ms: Metric = { key: 'p50Ms', label: 'p50', unit: 'ms', better: 'lower', format: ms };
const p99Ms: Metric = { key: 'p99Ms', label: 'p99', unit: 'ms', better: 'lower', format: ms };
const errors: Metric = { key: 'errors', label: 'errors', unit: '', better: 'lower', format: (x) => String(x) };

/** Start examples/http-service with METRICS=`mode`; resolves with its URL once it prints its listening line. */
export async function startServer(mode: string, cpus: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', METRICS: mode, CPUS: String(cpus), WORKERS: String(WORKERS_PER_VCPU * cpus) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service (${mode}) printed no listening line in 30 s`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`service (${mode}) exited with ${code}: ${out}`)); });
  });
  return { child, url };
}

/** SIGTERM the service (SIGKILL after 10 s); resolves with its exit code (null if it had to be killed). */
export async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

interface Run { rps: number; p50: number; p99: number; errors: number }

async function load(url: string, seconds: number): Promise<Run> {
  const r = await autocannon({ url: `${url}/work?n=200`, connections: CONNECTIONS, duration: seconds });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const runner: Runner = {
  units: (suite, o) => suite.impls.length * Math.min(3, o.repeat),
  async run({ env, suite, o, progress }) {
    const cpus = env.k.cpus;
    // Each run: a fresh server, a short warm-up, then the measured load. Rounds interleave the
    // implementations so drifting machine load hits them alike.
    const seconds = Math.max(1, Math.round((o.sampleMs * 10) / 1000));
    const rounds = Math.min(3, o.repeat);
    const runs = new Map<string, Run[]>(suite.impls.map((i) => [i.id, []]));
    for (let r = 0; r < rounds; r++) {
      for (const impl of suite.impls) {
        progress.step(`service ${impl.id} (round ${r + 1}/${rounds}, ${seconds} s)`, 1);
        const { child, url } = await startServer(impl.id, cpus);
        try {
          await load(url, 1);
          runs.get(impl.id)!.push(await load(url, seconds));
        } finally {
          await stopServer(child);
        }
      }
    }
    return suite.impls.map((impl) => {
      const rs = runs.get(impl.id)!;
      const rps = rs.map((x) => x.rps);
      const mid = rs.find((x) => x.rps === median(rps))!;
      const metrics = {
        requestsPerSec: median(rps), p50Ms: mid.p50, p99Ms: median(rs.map((x) => x.p99)),
        errors: rs.reduce((a, x) => a + x.errors, 0), opsPerSec: median(rps), nsPerOp: 1e9 / median(rps), abortsPerOp: 0,
      };
      return row(suite, impl, { threads: WORKERS_PER_VCPU * cpus, vcpus: cpus, injectHz: 0 }, metrics,
        { samples: rs.length, spread: [Math.min(...rps), Math.max(...rps)], itersPerThread: seconds });
    });
  },
};

const targets: TargetDef[] = [
  {
    id: 'service', text: 'service: per-vCPU metrics >= Atomics.add metrics in requests/s, with p99 no worse', target: 1, bound: 'min', unit: 'x',
    eval(all) {
      const a = all.find((r) => r.suite === 'service' && r.impl === 'per-vcpu');
      const b = all.find((r) => r.suite === 'service' && r.impl === 'atomics');
      if (!a || !b) return 'needs the service suite';
      const rpsRatio = (a.requestsPerSec as number) / (b.requestsPerSec as number);
      const p99Ratio = (b.p99Ms as number) / (a.p99Ms as number);
      return {
        measured: Math.min(rpsRatio, p99Ratio),
        detail: `${rate(a.requestsPerSec as number)} vs ${rate(b.requestsPerSec as number)} req/s (${rpsRatio.toFixed(2)}x), p99 ${ms(a.p99Ms as number)} vs ${ms(b.p99Ms as number)}`,
      };
    },
  },
];


export const service: Suite = {
  id: 'service', title: `examples/http-service under autocannon (${CONNECTIONS} connections, 127.0.0.1)`, impls, runner, targets,
  metrics: [requestsPerSec, p50Ms, p99Ms, errors, { key: 'opsPerSec', label: 'ops/s', unit: 'ops/s', better: 'higher', format: rate },
    { key: 'nsPerOp', label: 'ns/op', unit: 'ns', better: 'lower', format: (x) => `${x.toFixed(0)} ns` },
    { key: 'abortsPerOp', label: 'aborts/op', unit: '/op', better: 'lower', format: (x) => x.toFixed(0) }],
  columns: ['requestsPerSec', 'p50Ms', 'p99Ms', 'errors', 'ratio'],
  baseline: 'Atomics.add metrics',
};
