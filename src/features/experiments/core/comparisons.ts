import { type AnalysisSettings, REVENUE_METRIC } from "./config";
import type { ComparisonResult, CovariateSums, RevenueAggregate, VariantAggregate } from "./results";
import {
  type CupedArm,
  cuped,
  meanTest,
  probabilityToBeBest,
  probabilityToBeBestNormal,
  proportionTest,
} from "./stats";

// One treatment against control on one metric (the test each metric's kind calls for, CUPED where
// it applies), and every variant's chance to be best: the comparisons analyseResults assembles.

/** Subjects in the analysed population: exposed ones, or every assigned one. */
export function populationSize(
  aggregate: VariantAggregate,
  population: AnalysisSettings["population"],
): number {
  return population === "exposed" ? aggregate.exposed : aggregate.assigned;
}

/** Sample mean and variance of revenue per participant, zeros included for non-purchasers. */
export function revenueMoments(revenue: RevenueAggregate, n: number): { mean: number; variance: number } {
  if (n <= 0) return { mean: 0, variance: 0 };
  const mean = revenue.sum / n;
  const variance = n > 1 ? Math.max(0, (revenue.sumSquares - revenue.sum * mean) / (n - 1)) : 0;
  return { mean, variance };
}

/** A comparison before the multiple-testing correction sets its adjusted p-value. */
export type RawComparison = Omit<ComparisonResult, "adjustedPValue">;

/** Treatment against control on one metric; a lower-is-better metric's chance is mirrored. */
export function compare(
  metric: string,
  control: VariantAggregate,
  treatment: VariantAggregate,
  settings: AnalysisSettings,
  alpha: number,
): RawComparison {
  const comparison = compareHigherIsBetter(metric, control, treatment, settings, alpha);
  if (!settings.lowerIsBetter.includes(metric) || comparison.chanceToBeatControl === null) return comparison;
  // The posteriors are continuous, so "lower than control" is the complement of "higher".
  return { ...comparison, chanceToBeatControl: 1 - comparison.chanceToBeatControl };
}

function compareHigherIsBetter(
  metric: string,
  control: VariantAggregate,
  treatment: VariantAggregate,
  settings: AnalysisSettings,
  alpha: number,
): RawComparison {
  const options = {
    alpha,
    sequential: settings.sequential,
    sequentialTuning: settings.sequentialTuning,
    // The page shows small samples too, where a delta interval below −100% would be nonsense.
    relativeInterval: "auto" as const,
  };
  const nc = populationSize(control, settings.population);
  const nt = populationSize(treatment, settings.population);
  if (metric === REVENUE_METRIC) {
    const adjusted =
      settings.cuped && settings.population === "exposed" ? cupedArms(control, treatment) : null;
    if (adjusted) {
      return { ...pick(meanTest(adjusted.control, adjusted.treatment, options)), cuped: adjusted.cuped };
    }
    const result = meanTest(
      { n: nc, ...revenueMoments(control.revenue, nc) },
      { n: nt, ...revenueMoments(treatment.revenue, nt) },
      options,
    );
    return pick(result);
  }
  const result = proportionTest(
    { n: nc, conversions: Math.min(nc, control.converters[metric] ?? 0) },
    { n: nt, conversions: Math.min(nt, treatment.converters[metric] ?? 0) },
    options,
  );
  return pick(result);
}

/** Sample moments of outcome and covariate from sums. */
function cupedArmOf(sums: CovariateSums): CupedArm {
  const { n } = sums;
  const mean = sums.sumY / n;
  const covariateMean = sums.sumX / n;
  const spread = (sumSquares: number, sum: number) => Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1));
  return {
    n,
    mean,
    variance: spread(sums.sumYY, sums.sumY),
    covariateMean,
    covariateVariance: spread(sums.sumXX, sums.sumX),
    covariance: (sums.sumXY - (sums.sumX * sums.sumY) / n) / (n - 1),
  };
}

/** CUPED-adjusted arms, or null when no subject has a pre-exposure history to adjust with. */
function cupedArms(control: VariantAggregate, treatment: VariantAggregate) {
  const a = control.covariate;
  const b = treatment.covariate;
  if (!a || !b || a.n < 2 || b.n < 2 || a.withHistory + b.withHistory === 0) return null;
  const result = cuped({ control: cupedArmOf(a), treatment: cupedArmOf(b) });
  if (result.theta === 0) return null;
  return {
    control: result.control,
    treatment: result.treatment,
    cuped: { theta: result.theta, varianceReduction: result.varianceReduction },
  };
}

function pick(result: Omit<RawComparison, "cuped"> & Record<string, unknown>): RawComparison {
  return {
    cuped: null,
    absoluteLift: result.absoluteLift,
    relativeLift: result.relativeLift,
    ciAbsolute: result.ciAbsolute,
    ciRelative: result.ciRelative,
    ciRelativeMethod: result.ciRelativeMethod,
    pValue: result.pValue,
    chanceToBeatControl: result.chanceToBeatControl,
    significant: result.significant,
    undefinedReason: result.undefinedReason,
  };
}

/** Each variant's chance to be best on the metric, or null while a variant has no subjects. */
export function bestOf(metric: string, variants: VariantAggregate[], settings: AnalysisSettings) {
  const sizes = variants.map((variant) => populationSize(variant, settings.population));
  if (sizes.some((n) => n === 0)) return null;
  // Best means lowest when a fall is good: the lowest mean is the highest negated one, and the
  // lowest rate the highest rate of non-conversion (Beta(1 + c, 1 + n − c) mirrors exactly).
  const lower = settings.lowerIsBetter.includes(metric);
  if (metric === REVENUE_METRIC) {
    return probabilityToBeBestNormal(
      variants.map((variant, index) => {
        const { mean, variance } = revenueMoments(variant.revenue, sizes[index] ?? 0);
        return { mean: lower ? -mean : mean, se: Math.sqrt(variance / (sizes[index] ?? 1)) };
      }),
    );
  }
  return probabilityToBeBest(
    variants.map((variant, index) => {
      const n = sizes[index] ?? 0;
      const conversions = Math.min(n, variant.converters[metric] ?? 0);
      return { n, conversions: lower ? n - conversions : conversions };
    }),
  );
}
