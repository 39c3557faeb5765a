// The platform port: everything the runtime needs from its host environment, as one interface.
// The runtime itself uses only WebAssembly, SharedArrayBuffer and Atomics; spawning threads, reading
// files, learning that a thread died, lowering a thread's priority and reporting warnings go through
// here. node.ts implements it for Node.js worker_threads; a browser port (Web Workers, fetch) is one
// more file beside it, selected in index.ts.

/** A thread as its spawner sees it. Messages are structured-cloned. */
export interface ThreadPort {
  post(message: unknown): void;
  onMessage(fn: (message: unknown) => void): void;
  /** An uncaught error on the thread (the thread dies next). */
  onError(fn: (error: Error) => void): void;
  /** The thread is gone, however it ended (returned, exited, crashed, terminated, out of memory). */
  onExit(fn: (code: number) => void): void;
  /** Stop the thread wherever it is; resolves once it has exited. */
  terminate(): Promise<void>;
  /** Do not keep the process alive for this thread. */
  unref(): void;
}

/** The spawning thread, as a spawned thread sees it. */
export interface ParentPort {
  post(message: unknown): void;
  onMessage(fn: (message: unknown) => void): void;
}

export interface Platform {
  readonly name: string;
  /** Processors available to this process (the default vCPU count). */
  cpuCount(): number;
  /** Start `script` (an ES module) on a new thread with `data` (structured-cloned, shared memory shared). */
  spawn(script: URL, data: unknown): ThreadPort;
  /** The bytes of a file (a path or a URL). */
  readBytes(source: string | URL): Promise<Uint8Array<ArrayBuffer>>;
  /** A built artefact of this package: `host` modules (dist/host/<rel>) and `wasm` modules (build/<name>.wasm). */
  hostUrl(rel: string): URL;
  wasmUrl(name: string): URL;
  /** A URL as a local path where the platform has one (Node), else the URL's text. */
  toPath(url: URL): string;
  /** Resolve a user-given module path against the current directory. */
  resolveUrl(path: string | URL): URL;
  /** On a spawned thread: the data it was spawned with, and its parent. */
  threadData<T>(): T;
  parent(): ParentPort;
  /** An identifier of the current thread, unique in this process. */
  threadId(): number;
  /** End the current thread with `code` (a spawned thread only). */
  exitThread(code: number): never;
  /** Best effort: run the current thread at a lower priority than the supervisor's. */
  lowerThreadPriority(): void;
  /** A one-time warning to the user. */
  warn(message: string): void;
}
