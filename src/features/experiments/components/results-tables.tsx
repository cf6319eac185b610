import type { MetricResult, MetricRow } from "@/features/experiments/core/results";
import {
  chance,
  interval,
  metricTitle,
  money,
  percent,
  pValue,
  signedPercent,
  UNDEFINED_REASONS,
} from "./results-format";

function valueCell(metric: MetricResult, row: MetricRow): string {
  if (metric.kind === "revenue") return money(row.value);
  return percent(row.value, 2);
}

function totalCell(metric: MetricResult, row: MetricRow): string {
  return metric.kind === "revenue" ? money(row.total) : row.total.toLocaleString("en");
}

function LiftCell({ row, lowerIsBetter }: { row: MetricRow; lowerIsBetter: boolean }) {
  const comparison = row.comparison;
  if (!comparison) return <span className="muted">baseline</span>;
  if (comparison.relativeLift === null) {
    return (
      <span className="muted" title={comparison.undefinedReason ?? undefined}>
        {UNDEFINED_REASONS[comparison.undefinedReason ?? ""] ?? "undefined"}
      </span>
    );
  }
  // Green means better: a rise, or a fall for a metric where lower is better (refunds, latency).
  const better = lowerIsBetter ? comparison.relativeLift < 0 : comparison.relativeLift > 0;
  const tone = comparison.significant ? (better ? "ok-text" : "error") : "";
  return (
    <span className={tone}>
      <strong>{signedPercent(comparison.relativeLift)}</strong>{" "}
      <span className="muted">
        {interval(comparison.ciRelative)}
        {comparison.ciRelativeMethod === "log-ratio" ? " (log-ratio)" : ""}
      </span>
      {comparison.cuped && (
        <span className="hint" style={{ display: "block" }}>
          CUPED: {percent(comparison.cuped.varianceReduction, 0)} less variance
        </span>
      )}
    </span>
  );
}

/** One table per metric: every variant's numbers and its comparison with control. */
export function ResultsTables({ metrics }: { metrics: MetricResult[] }) {
  return (
    <div className="stack">
      {metrics.map((metric) => (
        <div key={metric.metric} className="stack" data-testid={`metric-${metric.metric}`}>
          <h3 style={{ margin: 0 }}>
            {metricTitle(metric.metric, metric.kind)}{" "}
            <span className={`badge ${metric.role === "guardrail" ? "badge-paused" : "badge-running"}`}>
              {metric.role}
            </span>
          </h3>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col">Participants</th>
                  <th scope="col">{metric.kind === "revenue" ? "Revenue" : "Converters"}</th>
                  <th scope="col">{metric.kind === "revenue" ? "Per participant" : "Rate"}</th>
                  <th scope="col">Lift vs control</th>
                  <th scope="col">Chance to beat control</th>
                  <th scope="col">Chance to be best</th>
                  <th scope="col">p-value (adjusted)</th>
                </tr>
              </thead>
              <tbody>
                {metric.rows.map((row) => (
                  <tr key={row.variant} data-variant={row.variant}>
                    <th scope="row">{row.variant}</th>
                    <td>{row.n.toLocaleString("en")}</td>
                    <td>{totalCell(metric, row)}</td>
                    <td>{valueCell(metric, row)}</td>
                    <td>
                      <LiftCell row={row} lowerIsBetter={metric.lowerIsBetter} />
                    </td>
                    <td>{row.comparison ? chance(row.comparison.chanceToBeatControl) : "—"}</td>
                    <td>{chance(row.probabilityToBeBest)}</td>
                    <td>
                      {row.comparison
                        ? `${pValue(row.comparison.pValue)}${
                            row.comparison.adjustedPValue !== null &&
                            row.comparison.adjustedPValue !== row.comparison.pValue
                              ? ` (${pValue(row.comparison.adjustedPValue)})`
                              : ""
                          }`
                        : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </div>
  );
}
