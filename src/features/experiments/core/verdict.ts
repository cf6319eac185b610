import type { AnalysisSettings, ExperimentStatus } from "./config";
import type { MetricResult, MetricRow, ResultsAnalysis } from "./results";
import { sampleSize } from "./stats";

/** How far the test is towards the sample it needs to detect the minimum effect. */
export type Progress = {
  baselineRate: number | null;
  neededPerVariant: number | null;
  /** The smallest arm decides when the test has enough. */
  smallestArm: number;
  share: number | null;
  daysRunning: number;
  /** Participants per day, all arms together, over the test so far. */
  dailyTraffic: number;
  daysRemaining: number | null;
  /** Why no plan could be made, for the page. */
  note: string | null;
};

export function planProgress(input: {
  analysis: ResultsAnalysis;
  settings: AnalysisSettings;
  daysRunning: number;
}): Progress {
  const primary = input.analysis.metrics[0];
  const rows = primary?.rows ?? [];
  const smallestArm = rows.length ? Math.min(...rows.map((row) => row.n)) : 0;
  const total = rows.reduce((sum, row) => sum + row.n, 0);
  const dailyTraffic = input.daysRunning > 0 ? total / input.daysRunning : total;
  const base = { smallestArm, daysRunning: input.daysRunning, dailyTraffic };
  const control = rows.find((row) => row.isControl);
  if (primary?.kind !== "conversion") {
    return {
      ...base,
      baselineRate: null,
      neededPerVariant: null,
      share: null,
      daysRemaining: null,
      note: "The planned sample is computed for a conversion metric; make one primary to see it.",
    };
  }
  const baselineRate = control?.value ?? null;
  if (baselineRate === null || baselineRate <= 0 || baselineRate >= 1) {
    return {
      ...base,
      baselineRate,
      neededPerVariant: null,
      share: null,
      daysRemaining: null,
      note: "The planned sample needs a control conversion rate between 0% and 100%.",
    };
  }
  const target = baselineRate * (1 + input.settings.minDetectableEffect);
  if (target >= 1) {
    return {
      ...base,
      baselineRate,
      neededPerVariant: null,
      share: null,
      daysRemaining: null,
      note: "The minimum detectable effect would push the rate past 100%; choose a smaller one.",
    };
  }
  const { perVariant, duration } = sampleSize({
    baselineRate,
    minDetectableEffect: input.settings.minDetectableEffect,
    alpha: input.analysis.intervalAlpha,
    power: input.settings.power,
    dailyTraffic,
    variants: rows.length,
    // The smallest arm sets the pace: counting the others' surplus would promise an early finish.
    enrolled: smallestArm * rows.length,
  });
  return {
    ...base,
    baselineRate,
    neededPerVariant: perVariant,
    share: Math.min(1, smallestArm / perVariant),
    daysRemaining: smallestArm >= perVariant ? 0 : (duration?.days ?? null),
    note: null,
  };
}

export type VerdictTone = "ship" | "wait" | "stop" | "investigate" | "no-data";
export type Verdict = {
  tone: VerdictTone;
  /** One sentence a reader acts on. */
  headline: string;
  details: string[];
  /** Guardrail regressions and data-quality alarms: shown in red whatever the headline says. */
  redFlags: string[];
};

export function formatSignedPercent(value: number, digits = 1): string {
  const percent = value * 100;
  const rounded = percent.toFixed(digits);
  return `${percent > 0 ? "+" : percent < 0 ? "−" : ""}${rounded.replace("-", "")}%`;
}

function chance(row: MetricRow): string {
  const value = row.comparison?.chanceToBeatControl;
  if (value == null) return "";
  const percent = Math.round(value * 100);
  // Never print "100%" or "0%": the data cannot make a certainty.
  const shown = percent >= 100 ? ">99" : percent <= 0 ? "<1" : String(percent);
  return `${shown}% chance to beat control`;
}

function metricLabel(metric: MetricResult): string {
  return metric.kind === "revenue" ? "revenue per participant" : `${metric.metric.replaceAll("_", " ")} rate`;
}

function remaining(progress: Progress): string | null {
  if (progress.neededPerVariant === null) return null;
  if (progress.daysRemaining === 0) return "the planned sample is reached";
  if (progress.daysRemaining === null) return "no traffic yet to estimate the time to the planned sample";
  const days = progress.daysRemaining;
  return `${days} more ${days === 1 ? "day" : "days"} to reach the planned sample`;
}

function guardrailFlags(analysis: ResultsAnalysis, settings: AnalysisSettings): string[] {
  const flags: string[] = [];
  for (const metric of analysis.metrics.filter((entry) => entry.role === "guardrail")) {
    const harm = settings.lowerIsBetter.includes(metric.metric) ? 1 : -1;
    for (const row of metric.rows) {
      const comparison = row.comparison;
      if (comparison?.significant && Math.sign(comparison.absoluteLift ?? 0) === harm) {
        const lift = comparison.relativeLift ?? comparison.absoluteLift ?? 0;
        flags.push(
          `Guardrail ${metric.metric}: ${row.variant} moved the wrong way, significantly (${formatSignedPercent(lift)}).`,
        );
      }
    }
  }
  return flags;
}

/** The plain-language reading of the results, for the top of the page. */
export function verdictOf(
  analysis: ResultsAnalysis,
  progress: Progress,
  status: ExperimentStatus,
  settings: AnalysisSettings,
): Verdict {
  const verdict = readVerdict(analysis, progress, status, settings);
  const headline = verdict.headline.toLowerCase();
  // A detail the headline already says is noise.
  return {
    ...verdict,
    details: verdict.details.filter((detail) => !headline.includes(detail.slice(0, -1).toLowerCase())),
  };
}

function readVerdict(
  analysis: ResultsAnalysis,
  progress: Progress,
  status: ExperimentStatus,
  settings: AnalysisSettings,
): Verdict {
  const redFlags = guardrailFlags(analysis, settings);
  if (analysis.srm.mismatch) {
    redFlags.unshift(
      `Sample ratio mismatch (p = ${analysis.srm.pValue.toExponential(1)}): the split differs from the configured weights, so the results cannot be trusted until the cause is found.`,
    );
  }
  if (analysis.exposureLoss.differential && analysis.exposureLoss.warning)
    redFlags.push(analysis.exposureLoss.warning);
  const primary = analysis.metrics[0];
  const label = primary ? metricLabel(primary) : "the primary metric";
  const sequential = analysis.sequential ? "with sequential testing" : "at a fixed horizon";
  const plan = remaining(progress);
  const details: string[] = [];
  // Said in the headline when there is a comparison to report; otherwise as a detail.
  const planDetail = plan ? `${plan[0]?.toUpperCase()}${plan.slice(1)}.` : null;
  if (planDetail) details.push(planDetail);
  if (progress.note) details.push(progress.note);

  if (status === "draft") {
    return { tone: "no-data", headline: "The test has not started yet.", details, redFlags };
  }
  if (!primary || !analysis.enoughData) {
    return {
      tone: "no-data",
      headline: `Too little data yet to say anything about ${label}: wait for more participants in every variant.`,
      details,
      redFlags,
    };
  }
  if (analysis.srm.mismatch) {
    return { tone: "investigate", headline: "Investigate before reading these results.", details, redFlags };
  }
  const treatments = primary.rows.filter((row) => !row.isControl && row.comparison);
  const undefinedRow = treatments.find((row) => row.comparison?.relativeLift === null);
  // A significant rise of a lower-is-better metric (refunds, churn) is a loss, not a win.
  const direction = primary.lowerIsBetter ? -1 : 1;
  const gain = (row: MetricRow) => direction * Math.sign(row.comparison?.absoluteLift ?? 0);
  const winners = treatments
    .filter((row) => row.comparison?.significant && gain(row) > 0)
    .sort((a, b) => (b.probabilityToBeBest ?? 0) - (a.probabilityToBeBest ?? 0));
  const losers = treatments.filter((row) => row.comparison?.significant && gain(row) < 0);
  const summarize = (row: MetricRow) => {
    const lift = row.comparison?.relativeLift ?? null;
    const liftText =
      lift === null ? "lift undefined (control has no conversions)" : `${formatSignedPercent(lift)} ${label}`;
    return [liftText, chance(row)].filter(Boolean).join(", ");
  };
  const tail = plan && progress.daysRemaining !== 0 ? `; ${plan}` : "";
  const winner = winners[0];
  if (winner) {
    const name = `${winner.variant[0]?.toUpperCase()}${winner.variant.slice(1)}`;
    return {
      tone: redFlags.length ? "investigate" : "ship",
      headline: `${name} is ahead: ${summarize(winner)}, significant ${sequential}${tail}.`,
      details,
      redFlags,
    };
  }
  if (losers.length === treatments.length && treatments.length > 0) {
    const names = losers.map((row) => row.variant).join(", ");
    return {
      tone: "stop",
      headline: `Control is ahead: ${names} ${losers.length === 1 ? "is" : "are"} significantly worse (${losers
        .map(summarize)
        .join("; ")}) ${sequential}. Consider stopping the test.`,
      details,
      redFlags,
    };
  }
  const leader = [...treatments].sort(
    (a, b) => (b.comparison?.chanceToBeatControl ?? 0) - (a.comparison?.chanceToBeatControl ?? 0),
  )[0];
  const reached = progress.daysRemaining === 0;
  const planned = formatSignedPercent(settings.minDetectableEffect, 0).replace("+", "");
  let headline = "No treatment to compare with control.";
  if (leader && reached) {
    headline = `No significant difference at the planned sample (${leader.variant}: ${summarize(leader)}): any effect is likely smaller than the ${planned} you planned to detect.`;
  } else if (leader) {
    headline = `No clear winner yet: ${leader.variant} ${summarize(leader)}, not significant ${sequential}${tail}.`;
  }
  if (undefinedRow) details.push("Relative lift is undefined while control has no conversions.");
  return { tone: reached ? "stop" : "wait", headline, details, redFlags };
}
