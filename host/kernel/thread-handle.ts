// The main thread's handle on one kernel thread (a worker): request/reply over postMessage, and
// the thread's death turned into ThreadDiedError for every call still waiting on it.
import type { Worker } from 'node:worker_threads';
import { ThreadDiedError } from '../errors.js';
import type { Reply, Request } from '../thread.js';

/** A request without its id (distributes over the union). */
export type Req = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

interface Pending { resolve: (r: Reply) => void; reject: (e: Error) => void }

export class ThreadHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  exited = false;
  exitCode: number | undefined;
  constructor(readonly slot: number, readonly worker: Worker, private readonly onExit: (t: ThreadHandle) => void) {
    worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.resolve(r);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
      this.fail(new Error(`exited with code ${code}`));
      this.onExit(this);
    });
  }

  private fail(e: Error): void {
    for (const [, p] of this.pending) p.reject(new ThreadDiedError(this.slot, e.message, { cause: e }));
    this.pending.clear();
  }

  request(req: Req): Promise<Reply> {
    if (this.exited) return Promise.reject(new ThreadDiedError(this.slot, 'thread has exited'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }
}

