import { describe, expect, it } from "vitest";
import { revenueMoments } from "@/features/experiments/core/comparisons";
import { DEFAULT_ANALYSIS } from "@/features/experiments/core/config";
import { posthogAppUrl, posthogInsightUrl } from "@/features/experiments/core/posthog-link";
import {
  analyseResults,
  exposureLossOf,
  metricsToShow,
  type VariantAggregate,
} from "@/features/experiments/core/results";
import {
  adjustPValues,
  MIN_SAMPLE_PER_ARM,
  MIN_TOTAL_CONVERSIONS,
  proportionTest,
} from "@/features/experiments/core/stats";
import { planProgress, verdictOf } from "@/features/experiments/core/verdict";
import { resultsToCsv } from "@/features/experiments/server/results-csv";
import { cumulativeSeries } from "@/features/experiments/server/results-folding";
import { type ExperimentResults, subjectPlanOf } from "@/features/experiments/server/results-service";
import { testConfig } from "./experiment-configs";

function arm(
  variant: string,
  n: number,
  converters: Record<string, number>,
  extra: Partial<VariantAggregate> = {},
) {
  return {
    variant,
    weight: 50,
    assigned: n,
    exposed: n,
    flagged: 0,
    converters,
    revenue: { sum: 0, sumSquares: 0, purchasers: 0 },
    ...extra,
  } satisfies VariantAggregate;
}

const fixed = { ...DEFAULT_ANALYSIS, sequential: false, correction: "none" as const };

describe("analyseResults", () => {
  it("compares each treatment with control using the stats core on the analysed population", () => {
    const analysis = analyseResults({
      variants: [arm("control", 1000, { signup: 100 }), arm("treatment", 1000, { signup: 120 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const signup = analysis.metrics[0];
    expect(signup?.metric).toBe("signup");
    expect(signup?.role).toBe("primary");
    const treatment = signup?.rows.find((row) => row.variant === "treatment");
    const direct = proportionTest({ n: 1000, conversions: 100 }, { n: 1000, conversions: 120 });
    expect(treatment?.comparison?.pValue).toBeCloseTo(direct.pValue ?? Number.NaN, 12);
    expect(treatment?.comparison?.relativeLift).toBeCloseTo(0.2, 12);
    expect(treatment?.value).toBeCloseTo(0.12, 12);
    expect(signup?.rows[0]?.comparison).toBeNull();
    const best = signup?.rows.map((row) => row.probabilityToBeBest ?? 0) ?? [];
    expect(best.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(best[1]).toBeGreaterThan(best[0] ?? 1);
  });

  it("uses assigned counts for intent-to-treat and exposed counts by default", () => {
    const variants = [
      arm("control", 0, { signup: 10 }, { assigned: 200, exposed: 100 }),
      arm("treatment", 0, { signup: 10 }, { assigned: 200, exposed: 150 }),
    ];
    const exposed = analyseResults({
      variants,
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    expect(exposed.metrics[0]?.rows.map((row) => row.n)).toEqual([100, 150]);
    const assigned = analyseResults({
      variants,
      control: "control",
      conversionEvents: ["signup"],
      settings: { ...fixed, population: "assigned" },
    });
    expect(assigned.metrics[0]?.rows.map((row) => row.n)).toEqual([200, 200]);
  });

  it("corrects p-values across variants × goal metrics but not guardrails, and widens intervals", () => {
    const variants = [
      arm("control", 5000, { signup: 500, click: 1000 }),
      arm("b", 5000, { signup: 560, click: 1010 }),
      arm("c", 5000, { signup: 530, click: 1100 }),
    ];
    const settings = { ...fixed, correction: "holm" as const, guardrails: ["revenue"] };
    const analysis = analyseResults({
      variants,
      control: "control",
      conversionEvents: ["signup", "click"],
      settings,
    });
    const goals = analysis.metrics.filter((metric) => metric.role !== "guardrail");
    expect(goals.map((metric) => metric.metric)).toEqual(["signup", "click"]);
    const raw = goals.flatMap((metric) =>
      metric.rows.filter((row) => row.comparison).map((row) => row.comparison?.pValue ?? 1),
    );
    const adjusted = goals.flatMap((metric) =>
      metric.rows.filter((row) => row.comparison).map((row) => row.comparison?.adjustedPValue ?? 1),
    );
    expect(adjusted).toEqual(adjustPValues(raw, "holm"));
    expect(analysis.intervalAlpha).toBeLessThan(0.05);
    const guardrail = analysis.metrics.find((metric) => metric.role === "guardrail");
    expect(guardrail?.metric).toBe("revenue");
    const guardrailRow = guardrail?.rows.find((row) => row.comparison);
    expect(guardrailRow?.comparison?.adjustedPValue).toBe(guardrailRow?.comparison?.pValue);
    // Significance follows the adjusted p-value.
    for (const metric of goals)
      for (const row of metric.rows.filter((entry) => entry.comparison))
        expect(row.comparison?.significant).toBe((row.comparison?.adjustedPValue ?? 1) < 0.05);
  });

  it("gives null with a reason, never NaN, when control converts 0% or an arm is empty", () => {
    const zero = analyseResults({
      variants: [arm("control", 500, { signup: 0 }), arm("treatment", 500, { signup: 5 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const row = zero.metrics[0]?.rows[1];
    expect(row?.comparison?.relativeLift).toBeNull();
    expect(row?.comparison?.undefinedReason).toBe("control-rate-zero");
    const empty = analyseResults({
      variants: [arm("control", 0, {}), arm("treatment", 0, {})],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    expect(empty.enoughData).toBe(false);
    expect(empty.metrics[0]?.rows[0]?.value).toBeNull();
    expect(JSON.stringify(empty)).not.toMatch(/NaN|Infinity/);
  });

  it("asks for the log-ratio interval where the delta one would cross −100%, as the page always did", () => {
    const analysis = analyseResults({
      variants: [arm("control", 150, { signup: 3 }), arm("treatment", 150, { signup: 8 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const comparison = analysis.metrics[0]?.rows[1]?.comparison;
    const plain = proportionTest({ n: 150, conversions: 3 }, { n: 150, conversions: 8 });
    expect(plain.ciRelativeMethod).toBe("delta");
    expect(plain.ciRelative?.[0]).toBeLessThan(-1);
    const auto = proportionTest(
      { n: 150, conversions: 3 },
      { n: 150, conversions: 8 },
      { relativeInterval: "auto" },
    );
    expect(comparison?.ciRelativeMethod).toBe("log-ratio");
    expect(comparison?.ciRelative).toEqual(auto.ciRelative);
    expect(comparison?.ciRelative?.[0]).toBeGreaterThan(-1);
  });

  it("needs MIN_TOTAL_CONVERSIONS converters of a conversion primary before results count", () => {
    const n = 10 * MIN_SAMPLE_PER_ARM;
    const analyse = (control: number, treatment: number, primaryMetric: string | null = null) =>
      analyseResults({
        variants: [arm("control", n, { signup: control }), arm("treatment", n, { signup: treatment })],
        control: "control",
        conversionEvents: ["signup"],
        settings: { ...fixed, primaryMetric },
      });
    const few = analyse(2, MIN_TOTAL_CONVERSIONS - 3);
    expect(few.enoughData).toBe(false);
    expect(
      verdictOf(few, planProgress({ analysis: few, settings: fixed, daysRunning: 7 }), "running", fixed).tone,
    ).toBe("no-data");
    expect(analyse(2, MIN_TOTAL_CONVERSIONS - 2).enoughData).toBe(true);
    // Revenue has no converters to count: the sample size alone decides.
    expect(analyse(0, 0, "revenue").enoughData).toBe(true);
  });

  it("detects a sample ratio mismatch against the configured weights", () => {
    const analysis = analyseResults({
      variants: [arm("control", 5400, { signup: 500 }), arm("treatment", 4600, { signup: 500 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    expect(analysis.srm.mismatch).toBe(true);
    expect(analysis.srm.expectedShare).toEqual([0.5, 0.5]);
    const progress = planProgress({ analysis, settings: fixed, daysRunning: 10 });
    const verdict = verdictOf(analysis, progress, "running", fixed);
    expect(verdict.tone).toBe("investigate");
    expect(verdict.redFlags[0]).toMatch(/Sample ratio mismatch/);
  });
});

describe("metricsToShow", () => {
  it("puts the primary first, then goals, then guardrails, each once", () => {
    expect(
      metricsToShow({ ...DEFAULT_ANALYSIS, primaryMetric: "purchase", guardrails: ["signup", "purchase"] }, [
        "signup",
        "purchase",
        "click",
      ]),
    ).toEqual([
      { metric: "purchase", role: "primary" },
      { metric: "click", role: "secondary" },
      { metric: "revenue", role: "secondary" },
      { metric: "signup", role: "guardrail" },
    ]);
    expect(metricsToShow(DEFAULT_ANALYSIS, [])[0]).toEqual({ metric: "revenue", role: "primary" });
  });
});

describe("subjectPlanOf", () => {
  const config = testConfig({ conversionEvents: ["signup", "purchase"] });

  it("reads the shown metrics' events and purchases, charts the primary, and asks for CUPED's history", () => {
    expect(subjectPlanOf(config, { ...DEFAULT_ANALYSIS, guardrails: ["refund"] })).toEqual({
      plan: { events: ["signup", "purchase", "refund"], seriesEvent: "signup", history: true },
      cuped: true,
    });
  });

  it("charts nothing when revenue is the primary, and reads no history without CUPED or for everyone assigned", () => {
    expect(subjectPlanOf(config, { ...DEFAULT_ANALYSIS, primaryMetric: "revenue", cuped: false })).toEqual({
      plan: { events: ["signup", "purchase"], seriesEvent: null, history: false },
      cuped: false,
    });
    expect(subjectPlanOf(config, { ...DEFAULT_ANALYSIS, population: "assigned" }).plan.history).toBe(false);
  });
});

describe("revenueMoments", () => {
  it("is the mean and sample variance with non-purchasers as zeros", () => {
    const values = [0, 0, 10, 30, 0];
    const sum = values.reduce((a, b) => a + b, 0);
    const squares = values.reduce((a, b) => a + b * b, 0);
    const mean = sum / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
    const moments = revenueMoments({ sum, sumSquares: squares, purchasers: 2 }, values.length);
    expect(moments.mean).toBeCloseTo(mean, 12);
    expect(moments.variance).toBeCloseTo(variance, 12);
    expect(revenueMoments({ sum: 0, sumSquares: 0, purchasers: 0 }, 0)).toEqual({ mean: 0, variance: 0 });
  });
});

describe("exposureLossOf", () => {
  it("warns on a large gap and on arms losing exposures at different rates", () => {
    const even = exposureLossOf([
      arm("control", 0, {}, { assigned: 1000, exposed: 950 }),
      arm("treatment", 0, {}, { assigned: 1000, exposed: 948 }),
    ]);
    expect(even.warning).toBeNull();
    expect(even.differential).toBe(false);
    const large = exposureLossOf([
      arm("control", 0, {}, { assigned: 1000, exposed: 600 }),
      arm("treatment", 0, {}, { assigned: 1000, exposed: 610 }),
    ]);
    expect(large.differential).toBe(false);
    expect(large.warning).toMatch(/40% of assigned subjects/);
    const biased = exposureLossOf([
      arm("control", 0, {}, { assigned: 5000, exposed: 4900 }),
      arm("treatment", 0, {}, { assigned: 5000, exposed: 4200 }),
    ]);
    expect(biased.differential).toBe(true);
    expect(biased.warning).toMatch(/different rates/);
  });
});

describe("verdictOf", () => {
  const progressFor = (analysis: ReturnType<typeof analyseResults>, days = 7) =>
    planProgress({ analysis, settings: fixed, daysRunning: days });

  it("calls a significant winner in plain words, with chance to beat control and time left", () => {
    const analysis = analyseResults({
      variants: [arm("control", 3000, { signup: 300 }), arm("treatment", 3000, { signup: 390 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const progress = progressFor(analysis);
    const verdict = verdictOf(analysis, progress, "running", fixed);
    expect(verdict.tone).toBe("ship");
    expect(verdict.headline).toMatch(
      /^Treatment is ahead: \+30\.0% signup rate, [<>]?\d+% chance to beat control, significant at a fixed horizon/,
    );
    expect(progress.neededPerVariant).toBeGreaterThan(3000);
    expect(verdict.headline).toMatch(/\d+ more days? to reach the planned sample\.$/);
    // Said once: not repeated below the headline.
    expect(verdict.details.join(" ")).not.toMatch(/to reach the planned sample/);
  });

  it("raises a guardrail regression as a red flag whatever the primary says, in the metric's direction", () => {
    const variants = [
      arm("control", 3000, { signup: 300, refund: 200, activation: 900 }),
      arm("treatment", 3000, { signup: 390, refund: 300, activation: 700 }),
    ];
    const events = ["signup", "refund", "activation"];
    const settings = { ...fixed, guardrails: ["refund", "activation"], lowerIsBetter: ["refund"] };
    const analysis = analyseResults({ variants, control: "control", conversionEvents: events, settings });
    const verdict = verdictOf(analysis, progressFor(analysis), "running", settings);
    expect(verdict.redFlags).toHaveLength(2);
    expect(verdict.redFlags[0]).toMatch(
      /^Guardrail refund: treatment moved the wrong way, significantly \(\+50\.0%\)/,
    );
    expect(verdict.redFlags[1]).toMatch(/^Guardrail activation: treatment moved the wrong way/);
    expect(verdict.tone).toBe("investigate");
    // Fewer refunds is good news: no flag when refunds fall.
    const better = [
      arm("control", 3000, { signup: 300, refund: 300 }),
      arm("treatment", 3000, { signup: 390, refund: 200 }),
    ];
    const good = analyseResults({ variants: better, control: "control", conversionEvents: events, settings });
    const calm = verdictOf(good, progressFor(good), "running", settings);
    expect(calm.redFlags).toEqual([]);
    expect(calm.tone).toBe("ship");
  });

  it("says wait while nothing is significant, and too little data below the minimum", () => {
    const analysis = analyseResults({
      variants: [arm("control", 2000, { signup: 200 }), arm("treatment", 2000, { signup: 205 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const verdict = verdictOf(analysis, progressFor(analysis), "running", fixed);
    expect(verdict.tone).toBe("wait");
    expect(verdict.headline).toMatch(/^No clear winner yet: treatment \+2\.5% signup rate/);
    const tiny = analyseResults({
      variants: [arm("control", 3, { signup: 1 }), arm("treatment", 3, { signup: 2 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    expect(verdictOf(tiny, progressFor(tiny), "running", fixed).tone).toBe("no-data");
  });

  it("reads a lower-is-better primary metric the right way round", () => {
    const settings = { ...fixed, lowerIsBetter: ["refund"] };
    const read = (control: number, treatment: number) => {
      const analysis = analyseResults({
        variants: [arm("control", 3000, { refund: control }), arm("treatment", 3000, { refund: treatment })],
        control: "control",
        conversionEvents: ["refund"],
        settings,
      });
      return { analysis, verdict: verdictOf(analysis, progressFor(analysis), "running", settings) };
    };
    // Significantly more refunds: a loss, never a winner.
    const worse = read(300, 390);
    const worseRow = worse.analysis.metrics[0]?.rows[1];
    expect(worse.analysis.metrics[0]?.lowerIsBetter).toBe(true);
    expect(worseRow?.comparison?.significant).toBe(true);
    expect(worseRow?.comparison?.absoluteLift).toBeGreaterThan(0);
    expect(worse.verdict.tone).toBe("stop");
    expect(worse.verdict.headline).toMatch(
      /^Control is ahead: treatment is significantly worse \(\+30\.0% refund rate/,
    );
    // "Beat" means lower here: more refunds leave almost no chance of beating control.
    expect(worseRow?.comparison?.chanceToBeatControl).toBeLessThan(0.01);
    expect(worseRow?.probabilityToBeBest).toBeLessThan(0.01);
    // Significantly fewer refunds: the treatment wins.
    const better = read(390, 300);
    const betterRow = better.analysis.metrics[0]?.rows[1];
    expect(better.verdict.tone).toBe("ship");
    expect(better.verdict.headline).toMatch(
      /^Treatment is ahead: −23\.1% refund rate, >99% chance to beat control, significant/,
    );
    expect(betterRow?.comparison?.chanceToBeatControl).toBeGreaterThan(0.99);
    const direct = proportionTest({ n: 3000, conversions: 390 }, { n: 3000, conversions: 300 });
    expect(betterRow?.comparison?.chanceToBeatControl).toBeCloseTo(1 - (direct.chanceToBeatControl ?? 1), 12);
    const best = better.analysis.metrics[0]?.rows.map((row) => row.probabilityToBeBest ?? 0) ?? [];
    expect(best[1]).toBeGreaterThan(0.99);
    expect(best[0]).toBeCloseTo(1 - (best[1] ?? 0), 6);
    // The same metric with higher-is-better reads the opposite way.
    const plain = analyseResults({
      variants: [arm("control", 3000, { refund: 390 }), arm("treatment", 3000, { refund: 300 })],
      control: "control",
      conversionEvents: ["refund"],
      settings: fixed,
    });
    expect(verdictOf(plain, progressFor(plain), "running", fixed).tone).toBe("stop");
  });

  it("reads a lower-is-better revenue primary by the lowest mean", () => {
    const settings = { ...fixed, lowerIsBetter: ["revenue"] };
    const revenue = (sum: number, sumSquares: number) => ({ sum, sumSquares, purchasers: 500 });
    const analysis = analyseResults({
      variants: [
        arm("control", 2000, {}, { revenue: revenue(20_000, 1_000_000) }),
        arm("treatment", 2000, {}, { revenue: revenue(26_000, 1_400_000) }),
      ],
      control: "control",
      conversionEvents: [],
      settings,
    });
    const row = analysis.metrics[0]?.rows[1];
    expect(analysis.metrics[0]?.metric).toBe("revenue");
    expect(row?.comparison?.significant).toBe(true);
    expect(row?.comparison?.absoluteLift).toBeGreaterThan(0);
    expect(row?.comparison?.chanceToBeatControl).toBeLessThan(0.05);
    expect(row?.probabilityToBeBest).toBeLessThan(0.05);
    expect(verdictOf(analysis, progressFor(analysis), "running", settings).tone).toBe("stop");
  });

  it("says stop when every treatment is significantly worse", () => {
    const analysis = analyseResults({
      variants: [arm("control", 3000, { signup: 390 }), arm("treatment", 3000, { signup: 300 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const verdict = verdictOf(analysis, progressFor(analysis), "running", fixed);
    expect(verdict.tone).toBe("stop");
    expect(verdict.headline).toMatch(/^Control is ahead: treatment is significantly worse/);
  });
});

describe("cumulativeSeries", () => {
  it("keeps running totals per variant", () => {
    const series = cumulativeSeries(
      [
        { day: "2026-11-20", variant: "control", exposures: 10, converters: 1 },
        { day: "2026-11-20", variant: "treatment", exposures: 0, converters: 0 },
        { day: "2026-11-21", variant: "control", exposures: 10, converters: 3 },
      ],
      ["control", "treatment"],
    );
    expect(series.map((point) => point.cumulativeRate)).toEqual([0.1, null, 0.2]);
  });
});

describe("resultsToCsv", () => {
  it("writes one row per metric and variant and defuses formula-like text", () => {
    const analysis = analyseResults({
      variants: [arm("control", 100, { signup: 10 }), arm("-2+3", 100, { signup: 12 })],
      control: "control",
      conversionEvents: ["signup"],
      settings: fixed,
    });
    const csv = resultsToCsv({ slug: "demo", phase: 1, analysis } as unknown as ExperimentResults);
    const lines = csv.trim().split("\r\n");
    expect(lines).toHaveLength(1 + 2 * 2);
    expect(lines[2]).toContain(",'-2+3,");
    expect(csv).not.toMatch(/NaN|Infinity/);
  });
});

describe("PostHog links", () => {
  it("opens the app host that belongs to the ingestion host, with the query in the hash", () => {
    expect(posthogAppUrl("https://us.i.posthog.com")).toBe("https://us.posthog.com");
    expect(posthogAppUrl("https://eu.i.posthog.com/")).toBe("https://eu.posthog.com");
    expect(posthogAppUrl("https://posthog.example.com")).toBe("https://posthog.example.com");
    const url = posthogInsightUrl("https://eu.i.posthog.com", "landing-hero");
    expect(url.startsWith("https://eu.posthog.com/insights/new#q=")).toBe(true);
    const query = JSON.parse(decodeURIComponent(url.split("#q=")[1] ?? ""));
    expect(query.source.breakdownFilter.breakdown).toBe("$feature/landing-hero");
  });
});
