// The main thread's handle on one kernel thread: request/reply over its port, and the thread's
// death turned into ThreadDiedError for every call still waiting on it.
import { ThreadDiedError } from '../errors.js';
import type { ThreadPort } from '../platform/index.js';
import type { Reply, Request } from '../thread.js';

/** A request without its id (distributes over the union). */
export type Req = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

interface Pending { resolve: (r: Reply) => void; reject: (e: Error) => void }

export class ThreadHandle {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  exited = false;
  exitCode: number | undefined;
  /** Resolves when the thread has instantiated its modules and registered; rejects if it died first. */
  readonly ready: Promise<void>;
  constructor(readonly slot: number, readonly port: ThreadPort, private readonly onExit: (t: ThreadHandle) => void) {
    let started!: (ok: boolean, e?: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => { started = (ok, e) => (ok ? resolve() : reject(e)); });
    this.ready.catch(() => {});
    port.onMessage((message) => {
      const r = message as Reply;
      if (r.id === 0) return started(true);
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      p.resolve(r);
    });
    port.onError((e) => { started(false, e); this.fail(e); });
    port.onExit((code) => {
      this.exited = true;
      this.exitCode = code;
      const e = new Error(`exited with code ${code}`);
      started(false, e);
      this.fail(e);
      this.onExit(this);
    });
  }

  /** Calls in flight on this thread. */
  get busy(): boolean {
    return this.pending.size > 0;
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
      this.port.post({ ...req, id });
    });
  }
}
