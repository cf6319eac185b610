"use client";

import { trackConversion, useExperiment } from "@/features/experiments/hooks";

const COPY: Record<string, { headline: string; lead: string; cta: string }> = {
  control: {
    headline: "Experimentation you can host yourself",
    lead: "Run A/B tests with sticky assignments, targeting and honest statistics.",
    cta: "Start an experiment",
  },
  treatment: {
    headline: "Ship the variant that wins, not the one you guessed",
    lead: "Know within days which change moves your numbers, on infrastructure you own.",
    cta: "Find your winner",
  },
};

/** The seeded visitor test: the headline and call to action change with the variant. */
export function LandingHero() {
  const { variant } = useExperiment("landing-hero");
  // No variant (test off, or the database unreachable): the default, deliberately.
  const shown = variant && COPY[variant] ? variant : "control";
  const copy = COPY[shown] ?? COPY.control;
  return (
    <section className="card stack hero" data-experiment="landing-hero" data-variant={shown}>
      <h2 className="hero-headline">{copy?.headline}</h2>
      <p>{copy?.lead}</p>
      <button
        type="button"
        data-testid="landing-hero-cta"
        onClick={() => trackConversion("landing-hero", "cta_click", { placement: "hero" })}
      >
        {copy?.cta}
      </button>
    </section>
  );
}
