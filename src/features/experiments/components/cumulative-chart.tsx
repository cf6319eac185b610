import type { SeriesPoint } from "@/features/experiments/server/results-folding";
import { percent, SERIES_COLOURS } from "./results-format";

const WIDTH = 680;
const HEIGHT = 260;
const PAD = { left: 56, right: 16, top: 14, bottom: 36 };

/** Cumulative conversion rate per variant by day: lines that settle as data accumulates. */
export function CumulativeChart({
  series,
  variants,
  metric,
}: {
  series: SeriesPoint[];
  variants: string[];
  metric: string | null;
}) {
  if (!metric)
    return <p className="muted">The chart follows a conversion metric; the primary metric is revenue.</p>;
  const days = [...new Set(series.map((point) => point.day))].sort();
  const rated = series.filter((point) => point.cumulativeRate !== null);
  if (days.length === 0 || rated.length === 0)
    return <p className="muted">No daily data yet (rollups refresh every few minutes).</p>;
  const top = Math.max(0.01, ...rated.map((point) => point.cumulativeRate ?? 0)) * 1.15;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (day: string) =>
    PAD.left + (days.length === 1 ? plotW / 2 : (days.indexOf(day) / (days.length - 1)) * plotW);
  const y = (rate: number) => PAD.top + plotH - (rate / top) * plotH;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((share) => share * top);
  const labelEvery = Math.max(1, Math.ceil(days.length / 7));

  return (
    <figure style={{ margin: 0 }} className="stack">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-labelledby="cumulative-title"
        data-testid="cumulative-chart"
        style={{ maxWidth: WIDTH, fontSize: 12 }}
      >
        <title id="cumulative-title">Cumulative {metric.replaceAll("_", " ")} rate per variant by day</title>
        {yTicks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} stroke="#e3e3e3" />
            <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end" fill="#555">
              {percent(tick, top < 0.05 ? 1 : 0)}
            </text>
          </g>
        ))}
        {days.map((day, index) =>
          index % labelEvery === 0 || index === days.length - 1 ? (
            <text key={day} x={x(day)} y={HEIGHT - 12} textAnchor="middle" fill="#555">
              {day.slice(5)}
            </text>
          ) : null,
        )}
        {variants.map((variant, index) => {
          const points = rated.filter((point) => point.variant === variant);
          if (!points.length) return null;
          const colour = SERIES_COLOURS[index % SERIES_COLOURS.length];
          const path = points.map((point) => `${x(point.day)},${y(point.cumulativeRate ?? 0)}`).join(" ");
          return (
            <g key={variant} data-variant={variant}>
              <polyline points={path} fill="none" stroke={colour} strokeWidth={2.5} />
              {points.length === 1 && (
                <circle
                  cx={x(points[0]?.day ?? "")}
                  cy={y(points[0]?.cumulativeRate ?? 0)}
                  r={4}
                  fill={colour}
                />
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="row" style={{ gap: 16, flexWrap: "wrap" }}>
        {variants.map((variant, index) => (
          <span key={variant}>
            <span
              aria-hidden="true"
              style={{
                display: "inline-block",
                width: 12,
                height: 12,
                marginRight: 6,
                background: SERIES_COLOURS[index % SERIES_COLOURS.length],
              }}
            />
            {variant}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
