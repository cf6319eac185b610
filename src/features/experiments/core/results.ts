import { bestOf, compare, populationSize, type RawComparison } from "./comparisons";
import { type AnalysisSettings, REVENUE_METRIC } from "./config";
import {
  adjustedAlpha,
  adjustPValues,
  hasEnoughData,
  type Interval,
  srmTest,
  type UndefinedReason,
} from "./stats";

/**
 * The analysis behind the results page, as a pure function of aggregated counts: the server
 * gathers the numbers (from the event store or the daily rollups), this decides what they mean.
 */

export type RevenueAggregate = { sum: number; sumSquares: number; purchasers: number };

/**
 * Per exposed subject: revenue after exposure (y) and purchases in the 30 days before it (x),
 * as sums; the CUPED covariate.
 */
export type CovariateSums = {
  n: number;
  sumX: number;
  sumXX: number;
  sumY: number;
  sumYY: number;
  sumXY: number;
  /** Subjects with any pre-exposure purchase. */
  withHistory: number;
};

/** One variant's numbers within the analysed population (exposed or assigned subjects). */
export type VariantAggregate = {
  variant: string;
  /** Configured traffic share, in percent. */
  weight: number;
  /** Subjects with an assignment in this phase (the assignment ledger). */
  assigned: number;
  /** Of those, subjects with a recorded exposure. */
  exposed: number;
  /** Subjects seen in a variant other than the one they were assigned. */
  flagged: number;
  /** Unique converters per conversion event. */
  converters: Record<string, number>;
  revenue: RevenueAggregate;
  covariate?: CovariateSums;
};

export type ComparisonResult = {
  absoluteLift: number | null;
  relativeLift: number | null;
  ciAbsolute: Interval | null;
  ciRelative: Interval | null;
  ciRelativeMethod: "delta" | "log-ratio" | null;
  pValue: number | null;
  adjustedPValue: number | null;
  chanceToBeatControl: number | null;
  significant: boolean;
  undefinedReason: UndefinedReason | null;
  /** Set when CUPED adjusted this comparison: the share of variance it removed. */
  cuped: { theta: number; varianceReduction: number } | null;
};

export type MetricRow = {
  variant: string;
  isControl: boolean;
  /** Participants analysed. */
  n: number;
  /** Converters (conversion metrics) or total revenue (revenue). */
  total: number;
  /** Conversion rate, or revenue per participant. */
  value: number | null;
  probabilityToBeBest: number | null;
  expectedLoss: number | null;
  /** Against control; null on the control row. */
  comparison: ComparisonResult | null;
};

export type MetricKind = "conversion" | "revenue";
export type MetricResult = {
  metric: string;
  kind: MetricKind;
  role: "primary" | "secondary" | "guardrail";
  /**
   * A fall is the good news (refunds, churn): chance to beat control and probability to be best
   * are then about being lower, while lifts keep their arithmetic sign.
   */
  lowerIsBetter: boolean;
  rows: MetricRow[];
};

export type ResultsAnalysis = {
  population: AnalysisSettings["population"];
  sequential: boolean;
  correction: AnalysisSettings["correction"];
  /** The alpha the intervals are drawn at, after the multiple-testing correction. */
  intervalAlpha: number;
  enoughData: boolean;
  metrics: MetricResult[];
  srm: { chiSquare: number; pValue: number; mismatch: boolean; observed: number[]; expectedShare: number[] };
  exposureLoss: ExposureLoss;
  flaggedSubjects: number;
};

export type ExposureLoss = {
  perVariant: { variant: string; assigned: number; exposed: number; missingShare: number | null }[];
  missingShare: number | null;
  /** True when arms lose exposures at different rates: a bias, not just lost volume. */
  differential: boolean;
  warning: string | null;
};

export type AnalyseInput = {
  variants: VariantAggregate[];
  control: string;
  conversionEvents: string[];
  settings: AnalysisSettings;
};

/** The primary metric: as configured, else the first conversion event, else revenue. */
export function primaryMetricOf(settings: AnalysisSettings, conversionEvents: string[]): string {
  return settings.primaryMetric ?? conversionEvents[0] ?? REVENUE_METRIC;
}

/** Every metric shown, in order: primary, other goals, guardrails (each once). */
export function metricsToShow(
  settings: AnalysisSettings,
  conversionEvents: string[],
): { metric: string; role: MetricResult["role"] }[] {
  const primary = primaryMetricOf(settings, conversionEvents);
  const guardrails = new Set(settings.guardrails.filter((metric) => metric !== primary));
  const goals = [...conversionEvents, REVENUE_METRIC].filter(
    (metric) => metric !== primary && !guardrails.has(metric),
  );
  return [
    { metric: primary, role: "primary" },
    ...goals.map((metric) => ({ metric, role: "secondary" as const })),
    ...[...guardrails].map((metric) => ({ metric, role: "guardrail" as const })),
  ];
}

/** Compares every treatment with control on every metric, with multiple-testing correction. */
export function analyseResults(input: AnalyseInput): ResultsAnalysis {
  const { settings } = input;
  const control = input.variants.find((variant) => variant.variant === input.control);
  const treatments = input.variants.filter((variant) => variant.variant !== input.control);
  const shown = metricsToShow(settings, input.conversionEvents);
  const goals = shown.filter((entry) => entry.role !== "guardrail");
  // Guardrails are watched, not tested for a win: they do not spend the goal metrics' alpha.
  const tests = goals.length * treatments.length;
  const intervalAlpha =
    settings.correction === "none" || tests <= 1
      ? settings.alpha
      : adjustedAlpha(settings.alpha, tests, settings.correction);

  const raw = shown.map(({ metric }) =>
    treatments.map((treatment) =>
      control ? compare(metric, control, treatment, settings, intervalAlpha) : null,
    ),
  );
  const goalPValues: { metricIndex: number; treatmentIndex: number; pValue: number }[] = [];
  shown.forEach((entry, metricIndex) => {
    if (entry.role === "guardrail") return;
    raw[metricIndex]?.forEach((comparison, treatmentIndex) => {
      if (comparison?.pValue != null)
        goalPValues.push({ metricIndex, treatmentIndex, pValue: comparison.pValue });
    });
  });
  const adjusted =
    settings.correction === "none"
      ? goalPValues.map((entry) => entry.pValue)
      : adjustPValues(
          goalPValues.map((entry) => entry.pValue),
          settings.correction,
        );
  const adjustedFor = (metricIndex: number, treatmentIndex: number, comparison: RawComparison) => {
    const index = goalPValues.findIndex(
      (entry) => entry.metricIndex === metricIndex && entry.treatmentIndex === treatmentIndex,
    );
    return index >= 0 ? (adjusted[index] ?? null) : comparison.pValue;
  };

  const ordered = control ? [control, ...treatments] : treatments;
  const metrics: MetricResult[] = shown.map(({ metric, role }, metricIndex) => {
    const kind: MetricKind = metric === REVENUE_METRIC ? "revenue" : "conversion";
    const best = bestOf(metric, ordered, settings);
    const rows = ordered.map((variant, index): MetricRow => {
      const n = populationSize(variant, settings.population);
      const total = kind === "revenue" ? variant.revenue.sum : Math.min(n, variant.converters[metric] ?? 0);
      const treatmentIndex = treatments.indexOf(variant);
      const comparison = treatmentIndex >= 0 ? raw[metricIndex]?.[treatmentIndex] : null;
      let full: ComparisonResult | null = null;
      if (comparison) {
        const adjustedPValue = adjustedFor(metricIndex, treatmentIndex, comparison);
        full = {
          ...comparison,
          adjustedPValue,
          significant: adjustedPValue !== null && adjustedPValue < settings.alpha,
        };
      }
      return {
        variant: variant.variant,
        isControl: variant === control,
        n,
        total,
        value: n > 0 ? total / n : null,
        probabilityToBeBest: best?.probabilities[index] ?? null,
        expectedLoss: best?.expectedLoss[index] ?? null,
        comparison: full,
      };
    });
    return { metric, kind, role, lowerIsBetter: settings.lowerIsBetter.includes(metric), rows };
  });

  const observed = input.variants.map((variant) => populationSize(variant, settings.population));
  const weights = input.variants.map((variant) => variant.weight);
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const srm =
    observed.reduce((sum, n) => sum + n, 0) > 0 && totalWeight > 0
      ? srmTest(observed, weights)
      : { chiSquare: 0, pValue: 1, mismatch: false };

  return {
    population: settings.population,
    sequential: settings.sequential,
    correction: settings.correction,
    intervalAlpha,
    enoughData: enoughDataFor(input.variants, primaryMetricOf(settings, input.conversionEvents), settings),
    metrics,
    srm: {
      ...srm,
      observed,
      expectedShare: weights.map((weight) => (totalWeight ? weight / totalWeight : 0)),
    },
    exposureLoss: exposureLossOf(input.variants),
    flaggedSubjects: input.variants.reduce((sum, variant) => sum + variant.flagged, 0),
  };
}

/**
 * The "too little data" gate: every arm needs MIN_SAMPLE_PER_ARM participants and, when the
 * primary metric is a conversion, the arms together MIN_TOTAL_CONVERSIONS of its converters; a
 * handful of conversions swings the lift wildly whatever the sample size.
 */
function enoughDataFor(variants: VariantAggregate[], primary: string, settings: AnalysisSettings): boolean {
  return hasEnoughData(
    variants.map((variant) => {
      const n = populationSize(variant, settings.population);
      return primary === REVENUE_METRIC
        ? { n }
        : { n, conversions: Math.min(n, variant.converters[primary] ?? 0) };
    }),
  );
}

/** Above this share of assigned subjects without an exposure, the page warns. */
export const EXPOSURE_LOSS_WARNING_SHARE = 0.2;

/**
 * Compares the assignment ledger with recorded exposures. Some gap is normal (assigned on the
 * server, left before the page rendered); a large one points to ad blockers, consent refusals or
 * lost events, and a gap that differs between arms biases exposure-based results.
 */
export function exposureLossOf(variants: VariantAggregate[]): ExposureLoss {
  const perVariant = variants.map((variant) => ({
    variant: variant.variant,
    assigned: variant.assigned,
    exposed: Math.min(variant.exposed, variant.assigned),
    missingShare:
      variant.assigned > 0 ? 1 - Math.min(variant.exposed, variant.assigned) / variant.assigned : null,
  }));
  const assigned = perVariant.reduce((sum, entry) => sum + entry.assigned, 0);
  const exposed = perVariant.reduce((sum, entry) => sum + entry.exposed, 0);
  const missingShare = assigned > 0 ? 1 - exposed / assigned : null;
  // Exposed share per arm compared with a chi-square test on the 2×k table, via srmTest on
  // the exposed counts against the assigned counts as weights.
  const differential =
    exposed > 0 && perVariant.every((entry) => entry.assigned > 0)
      ? srmTest(
          perVariant.map((entry) => entry.exposed),
          perVariant.map((entry) => entry.assigned),
        ).mismatch
      : false;
  let warning: string | null = null;
  if (differential) {
    warning =
      "Arms lose exposures at different rates: exposure-based results may be biased. Check that every variant records its exposure the same way.";
  } else if (missingShare !== null && missingShare > EXPOSURE_LOSS_WARNING_SHARE) {
    warning = `${Math.round(missingShare * 100)}% of assigned subjects have no recorded exposure: ad blockers, consent refusals or lost events.`;
  }
  return { perVariant, missingShare, differential, warning };
}
