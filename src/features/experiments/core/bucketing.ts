import { hash } from "./hash";

/** A half-open bucket range [start, end) on the unit interval. */
export type BucketRange = [number, number];

/** A GrowthBook namespace: [name, start, end); experiments with disjoint ranges never share a subject. */
export type Namespace = [string, number, number];

export function getEqualWeights(numVariations: number): number[] {
  if (numVariations <= 0) return [];
  return new Array<number>(numVariations).fill(1 / numVariations);
}

/**
 * GrowthBook's bucket ranges: variation i owns [start_i, start_i + coverage·weight_i), where
 * start_i is the sum of the earlier weights. Reducing coverage shrinks every range from its
 * start, so a subject inside a smaller allocation keeps the same variation as coverage grows.
 * Bad input is repaired the way GrowthBook does: coverage is clamped to [0, 1]; weights fall
 * back to equal when their count is wrong or their sum is outside [0.99, 1.01].
 */
export function getBucketRanges(numVariations: number, coverage: number, weights?: number[]): BucketRange[] {
  const clampedCoverage = Number.isNaN(coverage) ? 1 : Math.min(1, Math.max(0, coverage));
  let effective = weights ?? getEqualWeights(numVariations);
  if (effective.length !== numVariations) effective = getEqualWeights(numVariations);
  const total = effective.reduce((sum, weight) => sum + weight, 0);
  if (total < 0.99 || total > 1.01) effective = getEqualWeights(numVariations);

  let cumulative = 0;
  return effective.map((weight) => {
    const start = cumulative;
    cumulative += weight;
    return [start, start + clampedCoverage * weight];
  });
}

/**
 * `chooseVariation(n, getBucketRanges(count, coverage, percentages / 100))` without building the
 * ranges: the same operations in the same order (so the same answer to the last bit, including
 * the fallback to equal weights), and nothing allocated on the assignment hot path.
 */
export function chooseVariationByPercentage(
  n: number,
  coverage: number,
  variants: readonly { percentage: number }[],
): number {
  const count = variants.length;
  const clampedCoverage = Number.isNaN(coverage) ? 1 : Math.min(1, Math.max(0, coverage));
  let total = 0;
  for (let index = 0; index < count; index++) {
    total += (variants[index] as { percentage: number }).percentage / 100;
  }
  const useEqualWeights = total < 0.99 || total > 1.01;
  const equalWeight = 1 / count;
  let cumulative = 0;
  for (let index = 0; index < count; index++) {
    const weight = useEqualWeights
      ? equalWeight
      : (variants[index] as { percentage: number }).percentage / 100;
    const start = cumulative;
    cumulative += weight;
    if (n >= start && n < start + clampedCoverage * weight) return index;
  }
  return -1;
}

/** The index of the range containing `n` (upper bounds excluded), or −1 when it is in none. */
export function chooseVariation(n: number, ranges: BucketRange[]): number {
  for (let index = 0; index < ranges.length; index++) {
    const [start, end] = ranges[index] as BucketRange;
    if (n >= start && n < end) return index;
  }
  return -1;
}

/** Whether `id` falls in the namespace's range; namespaces always hash with version 1. */
export function inNamespace(id: string, namespace: Namespace): boolean {
  const [name, start, end] = namespace;
  const n = hash(`__${name}`, id, 1);
  if (n === null) return false;
  return n >= start && n < end;
}
