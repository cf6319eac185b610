/** Multiple-testing corrections across variants × metrics. */
import { normalQuantile } from "./distributions";
import type { Interval } from "./types";

export type CorrectionMethod = "holm" | "benjamini-hochberg";

/**
 * Adjusted p-values (same order as the input), monotone in the raw p-values and capped at 1.
 * Holm–Bonferroni (Holm 1979), controls the family-wise error rate: with p sorted ascending,
 * p̃_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)).
 * Benjamini–Hochberg (1995), controls the false discovery rate:
 * p̃_(i) = min_{j ≥ i} min(1, m·p_(j)/j).
 * Both match GrowthBook's adjustPValuesHolmBonferroni / adjustPValuesBenjaminiHochberg.
 */
export function adjustPValues(pValues: number[], method: CorrectionMethod): number[] {
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`pValues[${i}] must be within [0, 1], got ${p}`);
  });
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => (pValues[a] as number) - (pValues[b] as number));
  const adjusted = new Array<number>(m);
  if (method === "holm") {
    let running = 0;
    order.forEach((index, rank) => {
      running = Math.max(running, Math.min(1, (m - rank) * (pValues[index] as number)));
      adjusted[index] = running;
    });
  } else {
    let running = 1;
    for (let rank = m - 1; rank >= 0; rank--) {
      const index = order[rank] as number;
      // (m/j)·p rather than m·p/j: a factor ≥ 1 can never round the product below p.
      running = Math.min(running, Math.min(1, (m / (rank + 1)) * (pValues[index] as number)));
      adjusted[index] = running;
    }
  }
  return adjusted;
}

/**
 * Significance level for intervals shown next to adjusted p-values.
 * Holm: alpha/tests, the Bonferroni level; Holm's step-down has no exact simultaneous intervals,
 * and Bonferroni intervals are the standard conservative companion (they cover all effects at
 * once with probability ≥ 1 − alpha). Benjamini–Hochberg: the false-coverage-rate intervals of
 * Benjamini & Yekutieli (2005), alpha·R/tests for the R rejected hypotheses; without R (or with
 * R = 0) the same alpha/tests as Holm.
 * GrowthBook instead widens each interval separately from its adjusted p-value; that is
 * `adjustedInterval` below.
 */
export function adjustedAlpha(
  alpha: number,
  tests: number,
  method: CorrectionMethod,
  rejections?: number,
): number {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(Number.isInteger(tests) && tests >= 1))
    throw new RangeError(`tests must be a positive integer, got ${tests}`);
  if (method === "benjamini-hochberg" && rejections !== undefined && rejections > 0) {
    return (alpha * Math.min(rejections, tests)) / tests;
  }
  return alpha / tests;
}

/**
 * GrowthBook's adjusted interval (packages/shared adjustedCI): the normal interval around `estimate`
 * that touches 0 exactly when the adjusted p-value equals alpha, width = z(1 − alpha/2)·|estimate /
 * z(1 − adjustedPValue/2)|; the original interval is kept when it is wider, and an adjusted
 * p-value of ~1 gives (−∞, ∞).
 */
export function adjustedInterval(
  estimate: number,
  interval: Interval,
  adjustedPValue: number,
  alpha: number,
): Interval {
  if (adjustedPValue > 0.999999) return [-Infinity, Infinity];
  const width = Math.abs((normalQuantile(1 - alpha / 2) * estimate) / normalQuantile(1 - adjustedPValue / 2));
  const adjusted: Interval = [estimate - width, estimate + width];
  return adjusted[1] - adjusted[0] > interval[1] - interval[0] ? adjusted : interval;
}
