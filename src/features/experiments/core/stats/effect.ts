/**
 * GrowthBook-style effect tests (gbstats' TwoSidedTTest, OneSided…TTest and
 * SequentialTwoSidedTTest): one estimate, absolute or relative, with its own standard error, and
 * the p-value of that same estimate. `meanTest` follows Verdict's reference definitions instead
 * (its p-value always tests the absolute difference); this is for callers that want GrowthBook's
 * numbers, e.g. a relative lift whose interval and p-value agree.
 */
import { studentTCdf, studentTQuantile } from "./distributions";
import { makeInference } from "./inference";
import { welchDegreesOfFreedom } from "./mean";
import {
  assertMeanArm,
  type Interval,
  type MeanArm,
  resolveOptions,
  type StatsOptions,
  type UndefinedReason,
} from "./types";

export type DifferenceType = "absolute" | "relative";
export type Alternative = "two-sided" | "greater" | "less";

export type EffectTestOptions = StatsOptions & {
  /** Default "relative", as in GrowthBook. */
  differenceType?: DifferenceType;
  /** "greater": H1 treatment > control; "less": treatment < control. Default "two-sided". */
  alternative?: Alternative;
};

export type EffectTestResult = {
  estimate: number | null;
  standardError: number | null;
  degreesOfFreedom: number | null;
  /** One-sided tests have an infinite end (−∞ or +∞), as in gbstats. */
  ci: Interval | null;
  pValue: number | null;
  significant: boolean;
  sequential: boolean;
  undefinedReason: UndefinedReason | null;
};

/** An estimate ready for testing: gbstats' EffectMomentsResult plus what the test needs. */
export type EffectMoments = {
  estimate: number;
  variance: number;
  degreesOfFreedom: number | null;
  totalN: number;
};

/**
 * gbstats' effect moments for two arms: absolute mt − mc with variance vt/nt + vc/nc, or relative
 * (mt − mc)/mc with the delta-method variance vt/(nt·mc²) + vc·mt²/(nc·mc⁴).
 */
export function effectMoments(
  control: MeanArm,
  treatment: MeanArm,
  differenceType: DifferenceType,
): EffectMoments | UndefinedReason {
  if (control.n === 0 || treatment.n === 0) return "empty-arm";
  if (control.n < 2 || treatment.n < 2) return "too-little-data";
  const degreesOfFreedom = welchDegreesOfFreedom(control, treatment);
  const totalN = control.n + treatment.n;
  const controlMeanVariance = control.variance / control.n;
  const treatmentMeanVariance = treatment.variance / treatment.n;
  if (differenceType === "absolute") {
    return {
      estimate: treatment.mean - control.mean,
      variance: controlMeanVariance + treatmentMeanVariance,
      degreesOfFreedom,
      totalN,
    };
  }
  const mc = control.mean;
  if (mc === 0) return "control-mean-zero";
  const mt = treatment.mean;
  return {
    estimate: (mt - mc) / mc,
    variance: treatmentMeanVariance / (mc * mc) + (controlMeanVariance * mt * mt) / (mc * mc * mc * mc),
    degreesOfFreedom,
    totalN,
  };
}

/**
 * Tests effect moments: two-sided Welch t (p = 2·T(−|est/se|; df), ci = est ∓ t(df, 1 − α/2)·se),
 * one-sided t (p = 1 − T(est/se) for "greater", T(est/se) for "less", ci open on one side), or
 * sequential two-sided (GrowthBook's confidence sequence; one-sided sequential is not supported).
 */
export function testEffect(
  moments: EffectMoments | UndefinedReason,
  opts: EffectTestOptions = {},
): EffectTestResult {
  const options = resolveOptions(opts);
  const alternative = opts.alternative ?? "two-sided";
  if (options.sequential && alternative !== "two-sided") {
    throw new RangeError("sequential testing is two-sided only");
  }
  if (typeof moments === "string") {
    return {
      estimate: null,
      standardError: null,
      degreesOfFreedom: null,
      ci: null,
      pValue: null,
      significant: false,
      sequential: options.sequential,
      undefinedReason: moments,
    };
  }
  const { estimate, degreesOfFreedom } = moments;
  const standardError = Math.sqrt(Math.max(0, moments.variance));
  let ci: Interval;
  let pValue: number;
  if (alternative === "two-sided") {
    const inference = makeInference(options, moments.totalN, degreesOfFreedom);
    const halfWidth = inference.halfWidth(standardError);
    ci = [estimate - halfWidth, estimate + halfWidth];
    pValue = inference.pValue(estimate, standardError);
  } else {
    const greater = alternative === "greater";
    // With no variance (so no degrees of freedom) the estimate is exact: the bound is the estimate itself.
    const halfWidth =
      standardError > 0 && degreesOfFreedom !== null
        ? studentTQuantile(1 - options.alpha, degreesOfFreedom) * standardError
        : 0;
    ci = greater ? [estimate - halfWidth, Infinity] : [-Infinity, estimate + halfWidth];
    const favourable = greater ? estimate > 0 : estimate < 0;
    pValue =
      standardError > 0 && degreesOfFreedom !== null
        ? studentTCdf((greater ? -estimate : estimate) / standardError, degreesOfFreedom)
        : favourable
          ? 0
          : 1;
  }
  return {
    estimate,
    standardError,
    degreesOfFreedom,
    ci,
    pValue,
    significant: pValue < options.alpha,
    sequential: options.sequential,
    undefinedReason: null,
  };
}

/**
 * GrowthBook's frequentist test of two arms (gbstats TwoSidedTTest / OneSidedTreatment…TTest /
 * SequentialTwoSidedTTest). For a conversion metric pass variance = p(1 − p), as gbstats'
 * ProportionStatistic does.
 */
export function effectTest(
  control: MeanArm,
  treatment: MeanArm,
  opts: EffectTestOptions = {},
): EffectTestResult {
  assertMeanArm(control, "control");
  assertMeanArm(treatment, "treatment");
  return testEffect(effectMoments(control, treatment, opts.differenceType ?? "relative"), opts);
}
