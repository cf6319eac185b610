/**
 * Turning an estimate and its standard error into an interval and a p-value, fixed-horizon
 * (normal or Student's t) or sequential (GrowthBook's confidence sequences), and the choice
 * between the delta-method and log-ratio intervals for a relative lift.
 */
import {
  normalQuantile,
  normalTwoSidedPValue,
  studentTQuantile,
  studentTTwoSidedPValue,
} from "./distributions";
import { sequentialHalfWidth, sequentialPValue } from "./sequential";
import type { Interval, RelativeIntervalMethod, ResolvedOptions } from "./types";

export type Inference = {
  sequential: boolean;
  /** Half-width of the (1 − alpha) interval for an estimate with standard error `se`. */
  halfWidth(se: number): number;
  /** Two-sided p-value of H0: effect = 0; a zero standard error gives 1 when the estimate is 0, else 0. */
  pValue(estimate: number, se: number): number;
};

/**
 * The inference for one comparison: sequential when asked (n = both arms' participants), else
 * Student's t with `degreesOfFreedom` when given, else the normal approximation.
 */
export function makeInference(
  options: ResolvedOptions,
  totalN: number,
  degreesOfFreedom: number | null,
): Inference {
  const { alpha, sequentialTuning } = options;
  const degenerate = (estimate: number) => (estimate === 0 ? 1 : 0);
  if (options.sequential) {
    return {
      sequential: true,
      halfWidth: (se) => (se > 0 ? sequentialHalfWidth(se, totalN, alpha, sequentialTuning) : 0),
      pValue: (estimate, se) =>
        se > 0 ? sequentialPValue(estimate, se, totalN, alpha, sequentialTuning) : degenerate(estimate),
    };
  }
  if (degreesOfFreedom !== null) {
    const critical = studentTQuantile(1 - alpha / 2, degreesOfFreedom);
    return {
      sequential: false,
      halfWidth: (se) => critical * se,
      pValue: (estimate, se) =>
        se > 0 ? studentTTwoSidedPValue(estimate / se, degreesOfFreedom) : degenerate(estimate),
    };
  }
  const critical = normalQuantile(1 - alpha / 2);
  return {
    sequential: false,
    halfWidth: (se) => critical * se,
    pValue: (estimate, se) => (se > 0 ? normalTwoSidedPValue(estimate / se) : degenerate(estimate)),
  };
}

export type RelativeIntervalInput = {
  controlMean: number;
  treatmentMean: number;
  /** Variances of the two means (the per-participant variance divided by n). */
  controlMeanVariance: number;
  treatmentMeanVariance: number;
  inference: Inference;
  mode: "auto" | "delta";
};

/**
 * Interval for the relative lift mt/mc − 1 (mc ≠ 0).
 * Delta method: sd = sqrt(Var(mt)/mc² + mt²·Var(mc)/mc⁴) (the README formula, gbstats' variance).
 * When that interval reaches below −100% and both means are positive, the log-ratio interval
 * exp(ln(mt/mc) ∓ h·sqrt(Var(mt)/mt² + Var(mc)/mc²)) − 1 (Katz et al. 1978) is used instead:
 * it is never below −100% and is the better small-sample interval for a ratio.
 */
export function relativeInterval(input: RelativeIntervalInput): {
  interval: Interval;
  method: RelativeIntervalMethod;
} {
  const { controlMean: mc, treatmentMean: mt, controlMeanVariance: vc, treatmentMeanVariance: vt } = input;
  const lift = mt / mc - 1;
  const deltaSe = Math.sqrt(vt / (mc * mc) + (mt * mt * vc) / (mc * mc * mc * mc));
  const deltaHalfWidth = input.inference.halfWidth(deltaSe);
  const delta: Interval = [lift - deltaHalfWidth, lift + deltaHalfWidth];
  if (input.mode === "delta" || delta[0] >= -1 || !(mc > 0 && mt > 0))
    return { interval: delta, method: "delta" };
  const logRatio = Math.log(mt / mc);
  const logSe = Math.sqrt(vt / (mt * mt) + vc / (mc * mc));
  const logHalfWidth = input.inference.halfWidth(logSe);
  return {
    interval: [Math.expm1(logRatio - logHalfWidth), Math.expm1(logRatio + logHalfWidth)],
    method: "log-ratio",
  };
}
