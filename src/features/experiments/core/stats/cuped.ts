/**
 * CUPED (Deng, Xu, Kohavi & Walker 2013), as GrowthBook's regression adjustment does it: the
 * outcome is adjusted by a pre-exposure covariate, Y − θ·X, with one θ pooled over both arms
 * (gbstats compute_theta: the covariance of Y and X over the combined sample divided by the
 * combined variance of X; 0 when either combined variance is 0).
 */
import { type EffectMoments, type EffectTestOptions, type EffectTestResult, testEffect } from "./effect";
import { assertMeanArm, type MeanArm, type UndefinedReason } from "./types";

/** An arm with its outcome and a pre-exposure covariate (same participants): moments of both and their covariance. */
export type CupedArm = MeanArm & { covariateMean: number; covariateVariance: number; covariance: number };

export type CupedInput = {
  control: CupedArm;
  treatment: CupedArm;
  /**
   * Divisor of the variances and covariance: "sample" (n − 1, the default, as MeanArm) or
   * "population" (n, as p(1 − p) for a conversion metric and gbstats' binomial statistics).
   */
  moments?: "sample" | "population";
};

export type CupedResult = {
  /** Adjusted arms for `meanTest`: control keeps its mean, treatment's is moved to control's covariate level. */
  control: MeanArm;
  treatment: MeanArm;
  theta: number;
  /** 1 − Var(adjusted difference)/Var(raw difference), in [0, 1). */
  varianceReduction: number;
};

function assertCupedArm(arm: CupedArm, label: string): void {
  assertMeanArm(arm, label);
  if (!Number.isFinite(arm.covariateMean)) throw new RangeError(`${label}.covariateMean must be finite`);
  if (!(Number.isFinite(arm.covariateVariance) && arm.covariateVariance >= 0)) {
    throw new RangeError(`${label}.covariateVariance must be a non-negative number`);
  }
  if (!Number.isFinite(arm.covariance)) throw new RangeError(`${label}.covariance must be finite`);
}

/**
 * Pooled θ = Sxy/Sxx over the combined sample, rebuilt from the arms' moments:
 * Sxy = Σ_arms (w·cov + n·(ȳ_arm − ȳ)(x̄_arm − x̄)), Sxx likewise, w = n − 1 (or n for population moments).
 */
export function cupedTheta(input: CupedInput): number {
  const arms = [input.control, input.treatment];
  const weight = (n: number) => (input.moments === "population" ? n : n - 1);
  const total = arms.reduce((sum, arm) => sum + arm.n, 0);
  if (arms.some((arm) => arm.n === 0)) return 0;
  const outcomeMean = arms.reduce((sum, arm) => sum + arm.n * arm.mean, 0) / total;
  const covariateMean = arms.reduce((sum, arm) => sum + arm.n * arm.covariateMean, 0) / total;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const arm of arms) {
    const dy = arm.mean - outcomeMean;
    const dx = arm.covariateMean - covariateMean;
    sxy += weight(arm.n) * arm.covariance + arm.n * dy * dx;
    sxx += weight(arm.n) * arm.covariateVariance + arm.n * dx * dx;
    syy += weight(arm.n) * arm.variance + arm.n * dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / sxx : 0;
}

/** Var(Y − θX) = Var(Y) + θ²Var(X) − 2θ·Cov(Y, X) (clamped at 0 against rounding). */
function adjustedVariance(arm: CupedArm, theta: number): number {
  return Math.max(0, arm.variance + theta * theta * arm.covariateVariance - 2 * theta * arm.covariance);
}

function rawDifferenceVariance(input: CupedInput): number {
  return input.control.variance / input.control.n + input.treatment.variance / input.treatment.n;
}

/**
 * CUPED-adjusted arms to feed `meanTest`, with the pooled θ and the variance reduction achieved.
 * The adjusted difference is (ȳt − θx̄t) − (ȳc − θx̄c): control keeps its own mean (so relative
 * lifts are against the real control mean, as in gbstats), treatment becomes ȳt − θ(x̄t − x̄c), and
 * both variances become Var(Y − θX). If the pooled θ would not reduce the variance of the
 * difference (possible when the covariate relates differently in the two arms), θ = 0: no adjustment.
 */
export function cuped(input: CupedInput): CupedResult {
  assertCupedArm(input.control, "control");
  assertCupedArm(input.treatment, "treatment");
  const { control, treatment } = input;
  const unadjusted: CupedResult = {
    control: { n: control.n, mean: control.mean, variance: control.variance },
    treatment: { n: treatment.n, mean: treatment.mean, variance: treatment.variance },
    theta: 0,
    varianceReduction: 0,
  };
  if (control.n === 0 || treatment.n === 0) return unadjusted;
  const theta = cupedTheta(input);
  const rawVariance = rawDifferenceVariance(input);
  const controlVariance = adjustedVariance(control, theta);
  const treatmentVariance = adjustedVariance(treatment, theta);
  const adjustedDifferenceVariance = controlVariance / control.n + treatmentVariance / treatment.n;
  if (theta === 0 || !(rawVariance > 0) || adjustedDifferenceVariance >= rawVariance) return unadjusted;
  return {
    control: { n: control.n, mean: control.mean, variance: controlVariance },
    treatment: {
      n: treatment.n,
      mean: treatment.mean - theta * (treatment.covariateMean - control.covariateMean),
      variance: treatmentVariance,
    },
    theta,
    varianceReduction: 1 - adjustedDifferenceVariance / rawVariance,
  };
}

/**
 * gbstats' regression-adjusted moments. Absolute: the adjusted difference with variance
 * Var_t(Y − θX)/nt + Var_c(Y − θX)/nc. Relative: that difference over the unadjusted control mean,
 * with gbstats' delta-method variance
 *   Var_t(Y − θX)/(nt·ȳc²) + (vc·ȳt²/ȳc² − 2θ·cov_c·ȳt/ȳc + θ²·vx_c)/(nc·ȳc²).
 */
function cupedMoments(input: CupedInput, theta: number, relative: boolean): EffectMoments | UndefinedReason {
  const { control, treatment } = input;
  if (control.n === 0 || treatment.n === 0) return "empty-arm";
  if (control.n < 2 || treatment.n < 2) return "too-little-data";
  const controlVariance = adjustedVariance(control, theta);
  const treatmentVariance = adjustedVariance(treatment, theta);
  const difference =
    treatment.mean - theta * treatment.covariateMean - (control.mean - theta * control.covariateMean);
  const degreesOfFreedom =
    controlVariance + treatmentVariance > 0
      ? (controlVariance / control.n + treatmentVariance / treatment.n) ** 2 /
        ((controlVariance / control.n) ** 2 / (control.n - 1) +
          (treatmentVariance / treatment.n) ** 2 / (treatment.n - 1))
      : null;
  const totalN = control.n + treatment.n;
  if (!relative) {
    return {
      estimate: difference,
      variance: controlVariance / control.n + treatmentVariance / treatment.n,
      degreesOfFreedom,
      totalN,
    };
  }
  const mc = control.mean;
  if (mc === 0) return "control-mean-zero";
  const mt = treatment.mean;
  const controlPart =
    (control.variance * mt * mt) / (mc * mc) -
    (2 * theta * control.covariance * mt) / mc +
    theta * theta * control.covariateVariance;
  return {
    estimate: difference / mc,
    variance: treatmentVariance / (treatment.n * mc * mc) + controlPart / (control.n * mc * mc),
    degreesOfFreedom,
    totalN,
  };
}

/**
 * GrowthBook's frequentist test of a CUPED-adjusted metric (gbstats with RegressionAdjustedStatistic),
 * relative by default, with the pooled θ and the variance reduction it achieved on the absolute
 * difference. Like gbstats it keeps the pooled θ even in the rare case where it adds variance
 * (varianceReduction < 0 then); `cuped` falls back to no adjustment instead.
 */
export function cupedEffectTest(
  input: CupedInput,
  opts: EffectTestOptions = {},
): EffectTestResult & { theta: number; varianceReduction: number } {
  assertCupedArm(input.control, "control");
  assertCupedArm(input.treatment, "treatment");
  const { control, treatment } = input;
  const theta = control.n > 0 && treatment.n > 0 ? cupedTheta(input) : 0;
  const rawVariance = control.n > 0 && treatment.n > 0 ? rawDifferenceVariance(input) : 0;
  const adjusted =
    rawVariance > 0
      ? adjustedVariance(control, theta) / control.n + adjustedVariance(treatment, theta) / treatment.n
      : 0;
  const result = testEffect(
    cupedMoments(input, theta, (opts.differenceType ?? "relative") === "relative"),
    opts,
  );
  return { ...result, theta, varianceReduction: rawVariance > 0 ? 1 - adjusted / rawVariance : 0 };
}
