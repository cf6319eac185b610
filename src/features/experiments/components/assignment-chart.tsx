import { formatPercent } from "./format";

type VariantCount = { variant: string; assignments: number; exposed: number };

/**
 * Assignments per variant as bars (exposed subjects shaded inside), next to the configured split,
 * so an uneven split is visible at a glance.
 */
export function AssignmentChart({
  phase,
  total,
  variants,
  configured,
}: {
  phase: number;
  total: number;
  variants: VariantCount[];
  configured: Record<string, number>;
}) {
  const largest = Math.max(1, ...variants.map((variant) => variant.assignments));
  return (
    <figure className="stack" style={{ margin: 0 }} aria-labelledby="assignment-chart-title">
      <figcaption id="assignment-chart-title">
        <strong>Assignments in phase {phase}</strong>{" "}
        <span className="muted">({total.toLocaleString("en")} in total)</span>
      </figcaption>
      <div className="bar-chart" data-testid="assignment-chart">
        {variants.map((variant) => {
          const share = total ? (variant.assignments / total) * 100 : 0;
          return (
            <div className="bar" key={variant.variant} data-variant={variant.variant}>
              <span>{variant.variant}</span>
              <div
                className="bar-track"
                role="img"
                aria-label={`${variant.variant}: ${variant.assignments} assigned, ${variant.exposed} exposed`}
              >
                <div className="bar-fill" style={{ width: `${(variant.assignments / largest) * 100}%` }} />
                <div
                  className="bar-fill exposed"
                  style={{ width: `${(variant.exposed / largest) * 100}%` }}
                />
              </div>
              <span className="muted">
                {variant.assignments.toLocaleString("en")} · {formatPercent(share)}
                {configured[variant.variant] !== undefined &&
                  ` of ${formatPercent(configured[variant.variant] ?? 0)}`}
              </span>
            </div>
          );
        })}
      </div>
      <p className="hint">Dark: assigned. Green: exposed (the variant was actually shown).</p>
    </figure>
  );
}
