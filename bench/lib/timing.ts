/** Small timing helpers shared by the in-process benchmarks. */

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nanoseconds per operation for one timed pass of `operations` operations. */
export function nsPerOperation(startNs: bigint, endNs: bigint, operations: number): number {
  return Number(endNs - startNs) / operations;
}
