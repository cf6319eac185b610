/**
 * GrowthBook's own test numbers (shared/vectors/gbstats-cases.json), each compared at the rounding
 * its test uses. Not covered, because Verdict has no such metric or engine: quantile metrics
 * (gb_bayes_quantile_absolute_improper), ratio metrics with CUPED (gb_cuped_ratio_ra_two_sided),
 * informative Bayesian priors (gb_bayes_gaussian_informative_prior) and GrowthBook's power
 * calculator (gb_power; Verdict's sampleSize follows the README formula instead).
 */
import { describe, expect, it } from "vitest";
import {
  adjustedInterval,
  adjustPValues,
  type CupedArm,
  cuped,
  cupedEffectTest,
  cupedTheta,
  effectMoments,
  effectTest,
  type Interval,
  type MeanArm,
  meanTest,
  probabilityToBeBestNormal,
  proportionTest,
  srmTest,
} from "@/features/experiments/core";
import { loadVectors } from "./vectors";

type GbCase = { id: string; inputs: Record<string, unknown>; expected: unknown; cases?: unknown[] };
const gbCases = loadVectors<{ cases: GbCase[] }>("gbstats-cases.json").cases;
const gbCase = (id: string): GbCase => {
  const found = gbCases.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`gbstats case ${id} is missing from the vectors`);
  return found;
};

type Statistic = { type: string; sum: number; sum_squares?: number; n: number };
type FrequentistExpected = {
  expected: number;
  ci: [number, number | string];
  uplift: { mean: number; stddev: number };
  pValue: number;
};

/** gbstats' statistics as Verdict arms: SampleMeanStatistic (sample variance) or ProportionStatistic (p(1 − p)). */
function toArm(statistic: Statistic): MeanArm {
  const mean = statistic.sum / statistic.n;
  if (statistic.type === "ProportionStatistic") return { n: statistic.n, mean, variance: mean * (1 - mean) };
  const sumSquares = statistic.sum_squares as number;
  return {
    n: statistic.n,
    mean,
    variance: (sumSquares - statistic.sum ** 2 / statistic.n) / (statistic.n - 1),
  };
}

function expectRoundsTo(actual: number | null | undefined, expected: number, decimals: number) {
  expect(actual).toBeTypeOf("number");
  const difference = Math.abs((actual as number) - expected);
  expect(difference, `${actual} should round to ${expected}`).toBeLessThanOrEqual(
    0.5 * 10 ** -decimals + 1e-12,
  );
}

function arms(id: string): [MeanArm, MeanArm] {
  const { inputs } = gbCase(id);
  return [toArm(inputs.stat_a as Statistic), toArm(inputs.stat_b as Statistic)];
}

describe("gbstats frequentist t-tests", () => {
  it.each([
    ["gb_freq_two_sided_relative", "relative"],
    ["gb_freq_two_sided_absolute", "absolute"],
  ] as const)("%s", (id, differenceType) => {
    const expected = gbCase(id).expected as FrequentistExpected;
    const [control, treatment] = arms(id);
    const result = effectTest(control, treatment, { differenceType });
    expectRoundsTo(result.estimate, expected.expected, 5);
    expectRoundsTo(result.ci?.[0], expected.ci[0], 5);
    expectRoundsTo(result.ci?.[1], expected.ci[1] as number, 5);
    expectRoundsTo(result.standardError, expected.uplift.stddev, 5);
    expectRoundsTo(result.pValue, expected.pValue, 5);
    // meanTest's intervals are the same Welch intervals (its p-value always tests the absolute difference).
    const means = meanTest(control, treatment);
    const interval = (differenceType === "relative" ? means.ciRelative : means.ciAbsolute) as Interval;
    expectRoundsTo(interval[0], expected.ci[0], 5);
    expectRoundsTo(interval[1], expected.ci[1] as number, 5);
  });

  it("gb_freq_two_sided_binomial (a proportion as a mean with variance p(1 − p))", () => {
    const expected = gbCase("gb_freq_two_sided_binomial").expected as Omit<FrequentistExpected, "expected">;
    const [control, treatment] = arms("gb_freq_two_sided_binomial");
    const result = effectTest(control, treatment);
    expectRoundsTo(result.estimate, 0.06667, 5);
    expectRoundsTo(result.ci?.[0], expected.ci[0], 5);
    expectRoundsTo(result.ci?.[1], expected.ci[1] as number, 5);
    expectRoundsTo(result.standardError, expected.uplift.stddev, 5);
    expectRoundsTo(result.pValue, expected.pValue, 5);
  });

  it("gb_freq_one_sided_greater", () => {
    const expected = gbCase("gb_freq_one_sided_greater").expected as FrequentistExpected;
    const [control, treatment] = arms("gb_freq_one_sided_greater");
    const result = effectTest(control, treatment, { alternative: "greater" });
    expectRoundsTo(result.estimate, expected.expected, 5);
    expectRoundsTo(result.ci?.[0], expected.ci[0], 5);
    expect(result.ci?.[1]).toBe(Infinity);
    expectRoundsTo(result.standardError, expected.uplift.stddev, 5);
    expectRoundsTo(result.pValue, expected.pValue, 5);
    const lesser = effectTest(control, treatment, { alternative: "less" });
    expect(lesser.ci?.[0]).toBe(-Infinity);
    expect(lesser.pValue).toBeCloseTo(1 - (result.pValue as number), 12);
    expect(() => effectTest(control, treatment, { alternative: "less", sequential: true })).toThrow(
      RangeError,
    );
    const exact = effectTest(
      { n: 5, mean: 1, variance: 0 },
      { n: 5, mean: 2, variance: 0 },
      { alternative: "greater" },
    );
    expect(exact).toMatchObject({ estimate: 1, ci: [1, Infinity], pValue: 0 });
  });
});

describe("gbstats sequential testing (asymptotic confidence sequences)", () => {
  it("gb_seq_two_sided_mean_tuning_1000", () => {
    const expected = gbCase("gb_seq_two_sided_mean_tuning_1000").expected as FrequentistExpected;
    const [control, treatment] = arms("gb_seq_two_sided_mean_tuning_1000");
    const options = { sequential: true, sequentialTuning: 1000 };
    const result = effectTest(control, treatment, options);
    expect(result.sequential).toBe(true);
    expectRoundsTo(result.estimate, expected.expected, 5);
    expectRoundsTo(result.ci?.[0], expected.ci[0], 5);
    expectRoundsTo(result.ci?.[1], expected.ci[1] as number, 5);
    expectRoundsTo(result.standardError, expected.uplift.stddev, 5);
    expect(result.pValue).toBe(expected.pValue);
    const means = meanTest(control, treatment, options);
    expectRoundsTo(means.ciRelative?.[0], expected.ci[0], 5);
    expectRoundsTo(means.ciRelative?.[1], expected.ci[1] as number, 5);
  });

  it("gb_seq_two_sided_proportion_default_tuning (N* = 5000), also through proportionTest", () => {
    const { inputs, expected } = gbCase("gb_seq_two_sided_proportion_default_tuning") as GbCase & {
      expected: FrequentistExpected;
    };
    const [control, treatment] = arms("gb_seq_two_sided_proportion_default_tuning");
    const result = effectTest(control, treatment, { sequential: true });
    expectRoundsTo(result.estimate, expected.expected, 5);
    expectRoundsTo(result.ci?.[0], expected.ci[0], 5);
    expectRoundsTo(result.ci?.[1], expected.ci[1] as number, 5);
    expectRoundsTo(result.standardError, expected.uplift.stddev, 5);
    expectRoundsTo(result.pValue, expected.pValue, 5);
    const a = inputs.stat_a as Statistic;
    const b = inputs.stat_b as Statistic;
    const proportions = proportionTest(
      { n: a.n, conversions: a.sum },
      { n: b.n, conversions: b.sum },
      { sequential: true },
    );
    expectRoundsTo(proportions.relativeLift, expected.expected, 5);
    expectRoundsTo(proportions.ciRelative?.[0], expected.ci[0], 5);
    expectRoundsTo(proportions.ciRelative?.[1], expected.ci[1] as number, 5);
    expect(proportions.significant).toBe(true);
  });

  it("gb_seq_end_to_end_tuning_600 (analyze_metric_df, 9 decimals)", () => {
    const { inputs, expected } = gbCase("gb_seq_end_to_end_tuning_600") as GbCase & {
      expected: {
        cr_control: number;
        cr_treatment: number;
        expected: number;
        pValue: number;
        ci_lower: number;
      };
    };
    type Row = { main_sum: number; main_sum_squares: number; users: number };
    const [control, treatment] = [inputs.control_zero as Row, inputs.treatment_one as Row].map((row) =>
      toArm({
        type: "SampleMeanStatistic",
        sum: row.main_sum,
        sum_squares: row.main_sum_squares,
        n: row.users,
      }),
    ) as [MeanArm, MeanArm];
    expectRoundsTo(control.mean, expected.cr_control, 9);
    expectRoundsTo(treatment.mean, expected.cr_treatment, 9);
    const result = effectTest(control, treatment, { sequential: true, sequentialTuning: 600 });
    expectRoundsTo(result.estimate, expected.expected, 9);
    expectRoundsTo(result.pValue, expected.pValue, 9);
    expectRoundsTo(result.ci?.[0], expected.ci_lower, 9);
  });
});

describe("gbstats Bayesian figures through normal posteriors", () => {
  /** Bayesian effect with an improper flat prior: the posterior of the lift is N(estimate, se²). */
  it.each(["gb_bayes_binomial", "gb_bayes_gaussian_flat"])("%s", (id) => {
    const expected = gbCase(id).expected as FrequentistExpected & {
      chanceToWin: number;
      risk: [number, number];
    };
    const [control, treatment] = arms(id);
    const moments = effectMoments(control, treatment, "relative");
    if (typeof moments === "string") throw new Error(moments);
    const se = Math.sqrt(moments.variance);
    expectRoundsTo(moments.estimate, expected.expected, 5);
    expectRoundsTo(se, expected.uplift.stddev, 5);
    const z = 1.959963984540054;
    expectRoundsTo(moments.estimate - z * se, expected.ci[0], 5);
    expectRoundsTo(moments.estimate + z * se, expected.ci[1] as number, 5);
    // Control is the zero-width reference; treatment is the lift's posterior.
    const best = probabilityToBeBestNormal([
      { mean: 0, se: 0 },
      { mean: moments.estimate, se },
    ]);
    expectRoundsTo(best.probabilities[1], expected.chanceToWin, 5);
    expectRoundsTo(best.expectedLoss[0], expected.risk[0], 5);
    expectRoundsTo(best.expectedLoss[1], expected.risk[1], 5);
  });

  it("gb_bayes_get_risk (10 decimals)", () => {
    const { inputs, expected } = gbCase("gb_bayes_get_risk") as GbCase & { expected: [number, number] };
    const { mu, sigma } = inputs as { mu: number; sigma: number };
    const result = probabilityToBeBestNormal([
      { mean: 0, se: 0 },
      { mean: mu, se: sigma },
    ]);
    expectRoundsTo(result.expectedLoss[0], expected[0], 10);
    expectRoundsTo(result.expectedLoss[1], expected[1], 10);
  });
});

type RaRow = {
  main_sum: number;
  main_sum_squares?: number;
  covariate_sum: number;
  covariate_sum_squares?: number;
  main_covariate_sum_product: number;
  users: number;
};

/** A CUPED arm from GrowthBook's sums: sample moments for count metrics, population moments for binomial ones. */
function cupedArm(row: RaRow, binomial: boolean): CupedArm {
  const n = row.users;
  const mean = row.main_sum / n;
  const covariateMean = row.covariate_sum / n;
  if (binomial) {
    return {
      n,
      mean,
      variance: mean * (1 - mean),
      covariateMean,
      covariateVariance: covariateMean * (1 - covariateMean),
      covariance: row.main_covariate_sum_product / n - mean * covariateMean,
    };
  }
  return {
    n,
    mean,
    variance: ((row.main_sum_squares as number) - row.main_sum ** 2 / n) / (n - 1),
    covariateMean,
    covariateVariance: ((row.covariate_sum_squares as number) - row.covariate_sum ** 2 / n) / (n - 1),
    covariance: (row.main_covariate_sum_product - (row.main_sum * row.covariate_sum) / n) / (n - 1),
  };
}

describe("gbstats CUPED (regression adjustment)", () => {
  it("gb_cuped_mean_ra", () => {
    const { inputs, expected } = gbCase("gb_cuped_mean_ra") as GbCase & {
      expected: { cr_control: number; cr_treatment: number; expected: number; pValue: number };
    };
    const input = {
      control: cupedArm(inputs.control_zero as RaRow, false),
      treatment: cupedArm(inputs.treatment_one as RaRow, false),
    };
    expectRoundsTo(input.control.mean, expected.cr_control, 9);
    expectRoundsTo(input.treatment.mean, expected.cr_treatment, 9);
    expect(cupedTheta(input)).toBeCloseTo(-0.07321194034813545, 14);
    const result = cupedEffectTest(input);
    expectRoundsTo(result.estimate, expected.expected, 9);
    expectRoundsTo(result.pValue, expected.pValue, 9);
    expect(result.varianceReduction).toBeGreaterThan(0);
    // cuped() + meanTest gives the same adjusted lift (the interval uses the plain delta method).
    const adjusted = cuped(input);
    expect(adjusted.theta).toBe(result.theta);
    expectRoundsTo(meanTest(adjusted.control, adjusted.treatment).relativeLift, expected.expected, 9);
    expect(adjusted.varianceReduction).toBeCloseTo(result.varianceReduction, 12);
  });

  it("gb_cuped_proportion_ra (binomial: population moments)", () => {
    const { inputs, expected } = gbCase("gb_cuped_proportion_ra") as GbCase & {
      expected: { expected: number; pValue: number };
    };
    const input = {
      control: cupedArm(inputs.control_zero as RaRow, true),
      treatment: cupedArm(inputs.treatment_one as RaRow, true),
      moments: "population" as const,
    };
    const result = cupedEffectTest(input);
    expectRoundsTo(result.estimate, expected.expected, 9);
    expectRoundsTo(result.pValue, expected.pValue, 9);
  });

  it("gb_cuped_compute_theta (identical arms)", () => {
    const { inputs, expected } = gbCase("gb_cuped_compute_theta") as GbCase & { expected: number };
    const pre = inputs.METRIC_1_pre as number[];
    const post = inputs.METRIC_3_post as number[];
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const covariance = (x: number[], y: number[]) =>
      x.reduce((sum, value, i) => sum + (value - mean(x)) * ((y[i] as number) - mean(y)), 0) / (x.length - 1);
    const arm: CupedArm = {
      n: pre.length,
      mean: mean(post),
      variance: covariance(post, post),
      covariateMean: mean(pre),
      covariateVariance: covariance(pre, pre),
      covariance: covariance(post, pre),
    };
    expectRoundsTo(cupedTheta({ control: arm, treatment: arm }), expected, 5);
  });
});

describe("GrowthBook's SRM check, corrections and adjusted intervals", () => {
  type SrmCase = { users: number[]; weights: number[]; expected: number };
  const srmCases = gbCase("gb_srm").cases as SrmCase[];

  it.each(srmCases.filter((srm) => srm.users.length === srm.weights.length))(
    "checkSrm($users, $weights) = $expected",
    ({ users, weights, expected }) => {
      expectRoundsTo(srmTest(users, weights).pValue, expected, 9);
    },
  );

  it("a count/weight length mismatch is refused (GrowthBook returns 1 there)", () => {
    const mismatched = srmCases.filter((srm) => srm.users.length !== srm.weights.length);
    expect(mismatched.length).toBeGreaterThan(0);
    for (const { users, weights } of mismatched) expect(() => srmTest(users, weights)).toThrow(RangeError);
  });

  it.each([
    ["gb_holm_bonferroni", "holm", 12],
    ["gb_benjamini_hochberg", "benjamini-hochberg", 8],
  ] as const)("%s", (id, method, decimals) => {
    const { inputs, expected_sorted: sorted } = gbCase(id) as unknown as {
      inputs: number[];
      expected_sorted: { pValue: number[]; index: number[] };
    };
    const adjusted = adjustPValues(inputs, method);
    sorted.index.forEach((inputIndex, position) => {
      expectRoundsTo(adjusted[inputIndex], sorted.pValue[position] as number, decimals);
    });
  });

  it("gb_adjusted_ci", () => {
    type AdjustedCase = { adjustedPValue: number; lift: number; pValueThreshold: number; expected: Interval };
    for (const { adjustedPValue, lift, pValueThreshold, expected } of gbCase("gb_adjusted_ci")
      .cases as AdjustedCase[]) {
      const interval = adjustedInterval(lift, [lift, lift], adjustedPValue, pValueThreshold);
      expectRoundsTo(interval[0], expected[0], 8);
      expectRoundsTo(interval[1], expected[1], 8);
    }
  });
});
