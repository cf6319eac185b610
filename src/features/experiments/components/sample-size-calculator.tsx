"use client";

import { useId, useState } from "react";
import { estimateDuration, sampleSize } from "@/features/experiments/core/stats";

type Fields = {
  baseline: string;
  effect: string;
  alpha: string;
  power: string;
  variants: string;
  traffic: string;
};

function plan(fields: Fields): { perVariant: number; total: number; days: number | null } | string {
  const baselineRate = Number(fields.baseline) / 100;
  const minDetectableEffect = Number(fields.effect) / 100;
  const alpha = Number(fields.alpha);
  const power = Number(fields.power) / 100;
  const variants = Math.round(Number(fields.variants));
  const dailyTraffic = Number(fields.traffic);
  if (!(baselineRate > 0 && baselineRate < 1)) return "The baseline rate is a percentage between 0 and 100.";
  if (!(minDetectableEffect > 0)) return "The minimum detectable effect must be above 0%.";
  if (baselineRate * (1 + minDetectableEffect) >= 1) return "That effect would push the rate past 100%.";
  if (!(alpha > 0 && alpha < 0.5)) return "Alpha is between 0 and 0.5 (0.05 is usual).";
  if (!(power > 0.5 && power < 1)) return "Power is between 50% and 100% (80% is usual).";
  if (!(variants >= 2 && variants <= 20)) return "A test has 2 to 20 variants.";
  if (!(dailyTraffic >= 0)) return "Daily traffic cannot be negative.";
  const { perVariant } = sampleSize({ baselineRate, minDetectableEffect, alpha, power });
  const duration = estimateDuration({ perVariant, variants, dailyTraffic });
  return { perVariant, total: perVariant * variants, days: duration.days };
}

/** What sample a test needs, and how long that takes at a given traffic. */
export function SampleSizeCalculator({ initial }: { initial: Partial<Fields> }) {
  const id = useId();
  const [fields, setFields] = useState<Fields>({
    baseline: "10",
    effect: "10",
    alpha: "0.05",
    power: "80",
    variants: "2",
    traffic: "1000",
    ...initial,
  });
  const result = plan(fields);
  const input = (name: keyof Fields, label: string, hint?: string) => (
    <label htmlFor={`${id}-${name}`} className="stack" style={{ gap: 2 }}>
      <span>{label}</span>
      <input
        id={`${id}-${name}`}
        name={name}
        inputMode="decimal"
        value={fields[name]}
        onChange={(event) => setFields({ ...fields, [name]: event.target.value })}
      />
      {hint && <span className="hint">{hint}</span>}
    </label>
  );
  return (
    <section className="card stack" aria-labelledby={`${id}-title`} data-testid="sample-size-calculator">
      <h2 id={`${id}-title`}>Sample-size calculator</h2>
      <div className="grid-2">
        {input("baseline", "Baseline conversion rate (%)")}
        {input("effect", "Minimum detectable effect (% relative)", "10 means 10% → 11%")}
        {input("alpha", "Significance level (alpha)")}
        {input("power", "Power (%)")}
        {input("variants", "Variants (control included)")}
        {input("traffic", "Participants per day (all variants)")}
      </div>
      <output htmlFor={`${id}-baseline ${id}-effect`} aria-live="polite" data-testid="sample-size-result">
        {typeof result === "string" ? (
          <span className="error">{result}</span>
        ) : (
          <span>
            <strong>{result.perVariant.toLocaleString("en")}</strong> per variant,{" "}
            {result.total.toLocaleString("en")} in total
            {result.days === null ? "" : `: about ${Math.ceil(result.days)} days at this traffic`}.
          </span>
        )}
      </output>
    </section>
  );
}
