import type { ExperimentResults } from "./results-service";

const COLUMNS = [
  "experiment",
  "phase",
  "population",
  "metric",
  "role",
  "variant",
  "is_control",
  "participants",
  "total",
  "value",
  "absolute_lift",
  "relative_lift",
  "ci_relative_low",
  "ci_relative_high",
  "ci_method",
  "p_value",
  "adjusted_p_value",
  "chance_to_beat_control",
  "probability_to_be_best",
  "expected_loss",
  "significant",
  "undefined_reason",
  "cuped_variance_reduction",
] as const;

/** Text cells that a spreadsheet would run as a formula are quoted with a leading apostrophe. */
function textCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function cell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  return textCell(value);
}

/** One row per metric and variant, full precision, for spreadsheets and notebooks. */
export function resultsToCsv(results: ExperimentResults): string {
  const lines = [COLUMNS.join(",")];
  for (const metric of results.analysis.metrics) {
    for (const row of metric.rows) {
      const comparison = row.comparison;
      const values: Record<(typeof COLUMNS)[number], string | number | boolean | null | undefined> = {
        experiment: results.slug,
        phase: results.phase,
        population: results.analysis.population,
        metric: metric.metric,
        role: metric.role,
        variant: row.variant,
        is_control: row.isControl,
        participants: row.n,
        total: row.total,
        value: row.value,
        absolute_lift: comparison?.absoluteLift,
        relative_lift: comparison?.relativeLift,
        ci_relative_low: comparison?.ciRelative?.[0],
        ci_relative_high: comparison?.ciRelative?.[1],
        ci_method: comparison?.ciRelativeMethod,
        p_value: comparison?.pValue,
        adjusted_p_value: comparison?.adjustedPValue,
        chance_to_beat_control: comparison?.chanceToBeatControl,
        probability_to_be_best: row.probabilityToBeBest,
        expected_loss: row.expectedLoss,
        significant: comparison ? comparison.significant : null,
        undefined_reason: comparison?.undefinedReason,
        cuped_variance_reduction: comparison?.cuped?.varianceReduction,
      };
      lines.push(COLUMNS.map((column) => cell(values[column])).join(","));
    }
  }
  return `${lines.join("\r\n")}\r\n`;
}
