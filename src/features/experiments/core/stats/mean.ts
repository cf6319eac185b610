import { normalCdf } from "./distributions";
import { makeInference, relativeInterval } from "./inference";
import {
  assertMeanArm,
  type Interval,
  type MeanArm,
  type RelativeIntervalMethod,
  resolveOptions,
  type StatsOptions,
  type UndefinedReason,
} from "./types";

export type MeanTestResult = {
  absoluteLift: number | null;
  relativeLift: number | null;
  pValue: number | null;
  degreesOfFreedom: number | null;
  ciAbsolute: Interval | null;
  ciRelative: Interval | null;
  ciRelativeMethod: RelativeIntervalMethod | null;
  chanceToBeatControl: number | null;
  significant: boolean;
  sequential: boolean;
  undefinedReason: UndefinedReason | null;
};

/** Welch–Satterthwaite degrees of freedom from the two variances of the means; null when both are 0. */
export function welchDegreesOfFreedom(control: MeanArm, treatment: MeanArm): number | null {
  const controlMeanVariance = control.variance / control.n;
  const treatmentMeanVariance = treatment.variance / treatment.n;
  const total = controlMeanVariance + treatmentMeanVariance;
  if (!(total > 0)) return null;
  return (
    (total * total) /
    ((controlMeanVariance * controlMeanVariance) / (control.n - 1) +
      (treatmentMeanVariance * treatmentMeanVariance) / (treatment.n - 1))
  );
}

/**
 * Welch's t-test on the difference of two means (definitions: shared/vectors/README.md):
 * se² = vc/nc + vt/nt, Welch–Satterthwaite degrees of freedom, two-sided p from Student's t,
 * ciAbsolute = diff ∓ t(df, 1 − alpha/2)·se, relativeLift = mt/mc − 1 with the delta-method
 * interval sqrt(vt/(nt·mc²) + mt²·vc/(nc·mc⁴)) (with `relativeInterval: "auto"`, log-ratio where
 * that would cross −100% and both means are positive), chanceToBeatControl = Φ(diff/se). With
 * `sequential`, GrowthBook's always-valid intervals and p-value replace the t-based ones.
 * Nulls: an empty arm nulls everything ("empty-arm"); an arm of one participant has no variance,
 * so only the lifts are given ("too-little-data"); a zero control mean nulls the relative lift.
 */
export function meanTest(control: MeanArm, treatment: MeanArm, opts?: StatsOptions): MeanTestResult {
  assertMeanArm(control, "control");
  assertMeanArm(treatment, "treatment");
  const options = resolveOptions(opts);
  const unavailable = {
    pValue: null,
    degreesOfFreedom: null,
    ciAbsolute: null,
    ciRelative: null,
    ciRelativeMethod: null,
    chanceToBeatControl: null,
    significant: false,
    sequential: options.sequential,
  };
  if (control.n === 0 || treatment.n === 0) {
    return { ...unavailable, absoluteLift: null, relativeLift: null, undefinedReason: "empty-arm" };
  }
  const absoluteLift = treatment.mean - control.mean;
  const relativeLift = control.mean !== 0 ? treatment.mean / control.mean - 1 : null;
  if (control.n < 2 || treatment.n < 2) {
    return { ...unavailable, absoluteLift, relativeLift, undefinedReason: "too-little-data" };
  }

  const controlMeanVariance = control.variance / control.n;
  const treatmentMeanVariance = treatment.variance / treatment.n;
  const se = Math.sqrt(controlMeanVariance + treatmentMeanVariance);
  const degreesOfFreedom = welchDegreesOfFreedom(control, treatment);
  const inference = makeInference(options, control.n + treatment.n, degreesOfFreedom);
  const pValue = inference.pValue(absoluteLift, se);
  const halfWidth = inference.halfWidth(se);

  let ciRelative: Interval | null = null;
  let ciRelativeMethod: RelativeIntervalMethod | null = null;
  if (relativeLift !== null) {
    const relative = relativeInterval({
      controlMean: control.mean,
      treatmentMean: treatment.mean,
      controlMeanVariance,
      treatmentMeanVariance,
      inference,
      mode: options.relativeInterval,
    });
    ciRelative = relative.interval;
    ciRelativeMethod = relative.method;
  }

  return {
    absoluteLift,
    relativeLift,
    pValue,
    degreesOfFreedom,
    ciAbsolute: [absoluteLift - halfWidth, absoluteLift + halfWidth],
    ciRelative,
    ciRelativeMethod,
    chanceToBeatControl:
      se > 0 ? normalCdf(absoluteLift / se) : absoluteLift > 0 ? 1 : absoluteLift < 0 ? 0 : 0.5,
    significant: pValue < options.alpha,
    sequential: options.sequential,
    undefinedReason: relativeLift === null ? "control-mean-zero" : null,
  };
}
