import { chiSquareUpperTail } from "./distributions";

/** p-value below which a traffic split counts as a sample-ratio mismatch (GrowthBook's default). */
export const SRM_THRESHOLD = 0.001;

export type SrmResult = { chiSquare: number; pValue: number; mismatch: boolean };

/**
 * Sample-ratio-mismatch check: χ² goodness of fit of the observed counts to the expected split
 * (definitions: shared/vectors/README.md), expected counts N·wᵢ/Σw, χ² = Σ(o − e)²/e, p-value from
 * χ² with k − 1 degrees of freedom, mismatch when p < 0.001.
 * As GrowthBook's checkSrm does, arms with weight 0 are left out (a disabled variant), and with
 * fewer than two arms left or nobody observed there is nothing to test: χ² = 0, p = 1.
 */
export function srmTest(observed: number[], expectedWeights: number[]): SrmResult {
  if (observed.length !== expectedWeights.length) {
    throw new RangeError(
      `srmTest needs one weight per arm: ${observed.length} counts, ${expectedWeights.length} weights`,
    );
  }
  observed.forEach((count, i) => {
    if (!(Number.isFinite(count) && count >= 0))
      throw new RangeError(`observed[${i}] must be a non-negative number`);
  });
  expectedWeights.forEach((weight, i) => {
    if (!(Number.isFinite(weight) && weight >= 0)) {
      throw new RangeError(`expectedWeights[${i}] must be a non-negative number`);
    }
  });
  const arms = observed
    .map((count, i) => ({ count, weight: expectedWeights[i] as number }))
    .filter((arm) => arm.weight > 0);
  const total = arms.reduce((sum, arm) => sum + arm.count, 0);
  const totalWeight = arms.reduce((sum, arm) => sum + arm.weight, 0);
  if (arms.length < 2 || total === 0) return { chiSquare: 0, pValue: 1, mismatch: false };
  const chiSquare = arms.reduce((sum, arm) => {
    const expected = (total * arm.weight) / totalWeight;
    return sum + (arm.count - expected) ** 2 / expected;
  }, 0);
  const pValue = chiSquareUpperTail(chiSquare, arms.length - 1);
  return { chiSquare, pValue, mismatch: pValue < SRM_THRESHOLD };
}
