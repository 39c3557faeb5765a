// The exact checks made after every sample: a benchmark of a broken structure is worthless, so
// each failure throws CheckError (the CLI reports it and exits 1).

/** A structure failed its post-sample check. */
export class CheckError extends Error {
  override name = 'CheckError';
}

export const fail = (impl: string, msg: string): never => { throw new CheckError(`${impl}: ${msg}`); };

export const sum = (a: number[]): number => a.reduce((s, v) => s + v, 0);

/** 1 + 2 + ... + n as a bigint: the checksum of items numbered 1..n. */
export const triangle = (n: number): bigint => (BigInt(n) * BigInt(n + 1)) / 2n;

/** Counter checks: the counter(s) hold exactly the increments done so far (mod 2^32 for i32 words). */
export function counterCheck(id: string, read: () => bigint, mod32 = false): (ops: number[]) => void {
  let total = 0n;
  return (ops) => {
    total += BigInt(sum(ops));
    const got = read();
    const want = mod32 ? BigInt.asUintN(32, total) : total;
    if (got !== want) fail(id, `counter reads ${got}, expected ${want} (increments lost or duplicated)`);
  };
}

/** Item checks: every item present once; count and checksum preserved (sum < 0: a torn item). */
export function itemsCheck(id: string, total: number, read: () => { count: number; sum: bigint }): () => void {
  return () => {
    const { count, sum: s } = read();
    if (s < 0n) fail(id, 'an item is torn (its check word does not match its value)');
    if (count !== total) fail(id, `${count} items, expected ${total} (items lost or duplicated)`);
    if (s !== triangle(total)) fail(id, `items sum to ${s}, expected ${triangle(total)}`);
  };
}

/** Loop outcomes: no push found its buffer full (ops < 0) and, if `exact`, every thread did `iters`. */
export function loopCheck(id: string, ops: number[], slots: number[], iters: number, exact: boolean): void {
  ops.forEach((n, i) => {
    if (n < 0) fail(id, `thread ${slots[i]}: a push found its buffer full (an item would have been lost)`);
    if (exact && n !== iters) fail(id, `thread ${slots[i]} completed ${n} of ${iters} operations (unregistered?)`);
  });
}
