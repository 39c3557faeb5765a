// The Node.js platform port: worker_threads, node:fs, per-thread nice values on Linux.
import { readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, parentPort, threadId, workerData } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import type { ParentPort, Platform, ThreadPort } from './port.js';

// This file is dist/host/platform/node.js once built.
const hostRoot = new URL('../', import.meta.url);
const buildRoot = new URL('../../../build/', import.meta.url);

function threadPort(w: Worker): ThreadPort {
  return {
    post: (m) => w.postMessage(m),
    onMessage: (fn) => { w.on('message', fn); },
    onError: (fn) => { w.on('error', fn); },
    onExit: (fn) => { w.on('exit', fn); },
    terminate: async () => { await w.terminate(); },
    unref: () => w.unref(),
  };
}

export const nodePlatform: Platform = {
  name: 'node',
  cpuCount: () => availableParallelism(),
  spawn: (script, data) => threadPort(new Worker(script, { workerData: data })),
  readBytes: async (source) => new Uint8Array(await readFile(source)),
  hostUrl: (rel) => new URL(rel, hostRoot),
  wasmUrl: (name) => new URL(`${name}.wasm`, buildRoot),
  toPath: (url) => (url.protocol === 'file:' ? fileURLToPath(url) : url.href),
  resolveUrl: (path) => (path instanceof URL ? path : /^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path) ? new URL(path) : pathToFileURL(path)),
  threadData: <T>() => workerData as T,
  parent: (): ParentPort => {
    if (!parentPort) throw new UsageError('platform.parent(): not on a spawned thread');
    const p = parentPort;
    return { post: (m) => p.postMessage(m), onMessage: (fn) => { p.on('message', fn); } };
  },
  threadId: () => threadId,
  exitThread: (code) => process.exit(code),
  lowerThreadPriority: () => {
    // Linux: each thread has its own nice value, settable by tid without privilege (raising it).
    try {
      const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
      if (Number.isInteger(tid)) setPriority(tid, 10);
    } catch { /* not Linux: injection is less punctual, nothing breaks */ }
  },
  warn: (message) => process.emitWarning(message),
};
