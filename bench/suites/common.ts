// Sizes shared by the structure suites (list, buffer, memcpy).
import type { Env } from '../suite.js';

/** Nodes / items per vCPU for the list and buffers (the global structures hold as many in total). */
export const PER_CPU = 64;

const nextPow2 = (n: number) => 2 ** Math.ceil(Math.log2(Math.max(2, n)));

/** Capacity of an MPMC queue holding `items`: above items + threads in flight, so it is never full. */
export const mpmcCap = (env: Env, items: number): number => nextPow2(2 * (items + env.maxThreads));
