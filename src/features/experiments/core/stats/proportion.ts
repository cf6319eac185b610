import { betaChanceToBeat } from "./bayes";
import { makeInference, relativeInterval } from "./inference";
import {
  assertProportionArm,
  type Interval,
  type ProportionArm,
  type RelativeIntervalMethod,
  resolveOptions,
  type StatsOptions,
  type UndefinedReason,
} from "./types";

export type ProportionTestResult = {
  controlRate: number | null;
  treatmentRate: number | null;
  absoluteLift: number | null;
  relativeLift: number | null;
  pValue: number | null;
  ciAbsolute: Interval | null;
  ciRelative: Interval | null;
  ciRelativeMethod: RelativeIntervalMethod | null;
  chanceToBeatControl: number | null;
  significant: boolean;
  sequential: boolean;
  undefinedReason: UndefinedReason | null;
};

/**
 * Two-proportion comparison of a conversion metric (definitions: shared/vectors/README.md):
 * rates c/n; unpooled z-test se = sqrt(pc(1−pc)/nc + pt(1−pt)/nt); pValue = 2·(1 − Φ(|pt − pc|/se))
 * (1 if se = 0 and the rates are equal, else 0); ciAbsolute = lift ∓ z(1 − alpha/2)·se;
 * relativeLift = pt/pc − 1 with the delta-method interval (with `relativeInterval: "auto"`,
 * log-ratio where that would cross −100%, see `relativeInterval`); chanceToBeatControl =
 * P(θt > θc) under Beta(1 + c, 1 + n − c) posteriors, exact. With `sequential`, intervals and
 * p-value are GrowthBook's always-valid ones.
 * Nulls: an empty arm nulls everything but the other arm's rate; a 0% control nulls the relative lift.
 */
export function proportionTest(
  control: ProportionArm,
  treatment: ProportionArm,
  opts?: StatsOptions,
): ProportionTestResult {
  assertProportionArm(control, "control");
  assertProportionArm(treatment, "treatment");
  const options = resolveOptions(opts);
  const controlRate = control.n > 0 ? control.conversions / control.n : null;
  const treatmentRate = treatment.n > 0 ? treatment.conversions / treatment.n : null;
  if (controlRate === null || treatmentRate === null) {
    return {
      controlRate,
      treatmentRate,
      absoluteLift: null,
      relativeLift: null,
      pValue: null,
      ciAbsolute: null,
      ciRelative: null,
      ciRelativeMethod: null,
      chanceToBeatControl: null,
      significant: false,
      sequential: options.sequential,
      undefinedReason: "empty-arm",
    };
  }

  const controlMeanVariance = (controlRate * (1 - controlRate)) / control.n;
  const treatmentMeanVariance = (treatmentRate * (1 - treatmentRate)) / treatment.n;
  const se = Math.sqrt(controlMeanVariance + treatmentMeanVariance);
  const absoluteLift = treatmentRate - controlRate;
  const inference = makeInference(options, control.n + treatment.n, null);
  const pValue = inference.pValue(absoluteLift, se);
  const halfWidth = inference.halfWidth(se);

  let relativeLift: number | null = null;
  let ciRelative: Interval | null = null;
  let ciRelativeMethod: RelativeIntervalMethod | null = null;
  if (controlRate > 0) {
    relativeLift = treatmentRate / controlRate - 1;
    if (treatmentRate === 0 && options.relativeInterval === "auto") {
      ciRelative = zeroTreatmentRelativeInterval(control, treatment, inference.halfWidth);
      ciRelativeMethod = "log-ratio";
    } else {
      const relative = relativeInterval({
        controlMean: controlRate,
        treatmentMean: treatmentRate,
        controlMeanVariance,
        treatmentMeanVariance,
        inference,
        mode: options.relativeInterval,
      });
      ciRelative = relative.interval;
      ciRelativeMethod = relative.method;
    }
  }

  return {
    controlRate,
    treatmentRate,
    absoluteLift,
    relativeLift,
    pValue,
    ciAbsolute: [absoluteLift - halfWidth, absoluteLift + halfWidth],
    ciRelative,
    ciRelativeMethod,
    chanceToBeatControl: betaChanceToBeat(control, treatment),
    significant: pValue < options.alpha,
    sequential: options.sequential,
    undefinedReason: controlRate > 0 ? null : "control-rate-zero",
  };
}

/**
 * With no treatment conversions the lift is exactly −100% and both the delta and the plain
 * log-ratio intervals collapse to that point, claiming a certainty the data do not have. The
 * upper end comes from the log-ratio interval with the Haldane–Anscombe correction (0.5 added to
 * each arm's conversions and non-conversions); the lower end is −100%, where the estimate sits.
 */
function zeroTreatmentRelativeInterval(
  control: ProportionArm,
  treatment: ProportionArm,
  halfWidth: (se: number) => number,
): Interval {
  const treatmentRate = 0.5 / (treatment.n + 1);
  const controlRate = (control.conversions + 0.5) / (control.n + 1);
  const logSe = Math.sqrt(
    1 / 0.5 - 1 / (treatment.n + 1) + 1 / (control.conversions + 0.5) - 1 / (control.n + 1),
  );
  return [-1, Math.expm1(Math.log(treatmentRate / controlRate) + halfWidth(logSe))];
}
