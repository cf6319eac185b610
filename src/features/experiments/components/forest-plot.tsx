import type { MetricResult } from "@/features/experiments/core/results";
import { interval, metricTitle, signedPercent } from "./results-format";

const ROW = 30;
const LABEL = 190;
const WIDTH = 680;
const PLOT = WIDTH - LABEL - 20;
/** Intervals wider than this are clipped (and marked) so one noisy arm does not flatten the rest. */
const CLIP: [number, number] = [-1, 3];

type Row = {
  key: string;
  label: string;
  estimate: number | null;
  low: number | null;
  high: number | null;
  tone: "win" | "loss" | "flat";
  note: string;
};

function rowsOf(metrics: MetricResult[]): Row[] {
  return metrics.flatMap((metric) =>
    metric.rows
      .filter((row) => row.comparison)
      .map((row) => {
        const comparison = row.comparison;
        const estimate = comparison?.relativeLift ?? null;
        const ci = comparison?.ciRelative ?? null;
        const significant = comparison?.significant ?? false;
        return {
          key: `${metric.metric}:${row.variant}`,
          label: `${metric.role === "guardrail" ? "⚑ " : ""}${metricTitle(metric.metric, metric.kind).replace(" (conversion)", "")} · ${row.variant}`,
          estimate,
          low: ci?.[0] ?? null,
          high: ci?.[1] ?? null,
          tone: !significant ? "flat" : (estimate ?? 0) > 0 ? "win" : "loss",
          note: `${signedPercent(estimate)} ${interval(ci)}`,
        };
      }),
  );
}

function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / power;
  return (scaled < 1.5 ? 1 : scaled < 3.5 ? 2 : scaled < 7.5 ? 5 : 10) * power;
}

const COLOURS = { win: "#00835c", loss: "#c0392b", flat: "#555555" };

/** Relative lift with its interval per variant and metric; the zero line is "no difference". */
export function ForestPlot({ metrics, alpha }: { metrics: MetricResult[]; alpha: number }) {
  const rows = rowsOf(metrics);
  if (!rows.length) return <p className="muted">No comparisons yet.</p>;
  const values = rows
    .flatMap((row) => [row.low, row.high, row.estimate])
    .filter((v): v is number => v !== null);
  const min = Math.max(CLIP[0], Math.min(-0.05, ...values));
  const max = Math.min(CLIP[1], Math.max(0.05, ...values));
  const step = niceStep(max - min);
  const from = Math.floor(min / step) * step;
  const to = Math.ceil(max / step) * step;
  const x = (value: number) => LABEL + ((Math.min(to, Math.max(from, value)) - from) / (to - from)) * PLOT;
  const ticks: number[] = [];
  for (let tick = from; tick <= to + step / 2; tick += step) ticks.push(Number(tick.toFixed(10)));
  const height = rows.length * ROW + 40;
  const confidence = Math.round((1 - alpha) * 1000) / 10;

  return (
    <figure style={{ margin: 0 }} className="stack">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        width="100%"
        role="img"
        aria-labelledby="forest-title forest-desc"
        data-testid="forest-plot"
        style={{ maxWidth: WIDTH, fontSize: 12 }}
      >
        <title id="forest-title">Relative lift against control, with {confidence}% intervals</title>
        <desc id="forest-desc">{rows.map((row) => `${row.label}: ${row.note}`).join("; ")}</desc>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={x(tick)} x2={x(tick)} y1={10} y2={height - 26} stroke="#e3e3e3" />
            <text x={x(tick)} y={height - 10} textAnchor="middle" fill="#555">
              {signedPercent(tick, Math.abs(step) < 0.01 ? 1 : 0)}
            </text>
          </g>
        ))}
        <line x1={x(0)} x2={x(0)} y1={6} y2={height - 26} stroke="#222" strokeDasharray="4 3" />
        {rows.map((row, index) => {
          const y = 24 + index * ROW;
          const colour = COLOURS[row.tone];
          return (
            <g key={row.key} data-row={row.key}>
              <text x={LABEL - 8} y={y + 4} textAnchor="end" fill="#222">
                {row.label.length > 30 ? `${row.label.slice(0, 29)}…` : row.label}
              </text>
              {row.low !== null && row.high !== null && (
                <line x1={x(row.low)} x2={x(row.high)} y1={y} y2={y} stroke={colour} strokeWidth={3} />
              )}
              {row.low !== null && row.low < from && (
                <text x={LABEL + 2} y={y - 5} fill={colour}>
                  ◀
                </text>
              )}
              {row.high !== null && row.high > to && (
                <text x={LABEL + PLOT - 10} y={y - 5} fill={colour}>
                  ▶
                </text>
              )}
              {row.estimate !== null ? (
                <circle cx={x(row.estimate)} cy={y} r={5} fill={colour} />
              ) : (
                <text x={x(0) + 6} y={y + 4} fill="#555">
                  undefined
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="hint">
        Dots: relative lift against control; bars: {confidence}% intervals
        {alpha !== 0.05 ? " (widened for the multiple-testing correction)" : ""}. Green or red when
        significant; ⚑ marks a guardrail.
      </figcaption>
    </figure>
  );
}
