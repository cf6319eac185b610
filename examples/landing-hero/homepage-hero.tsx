"use client";

import { trackConversion, useVisitorExperiment } from "@/features/experiments/hooks";
import { homepageHeroExperiment } from "./experiment";

const SLUG = homepageHeroExperiment.slug;

const COPY = {
  control: { headline: "Experimentation you can host yourself", cta: "Start a trial" },
  "outcome-led": { headline: "Ship the variant that wins, not the one you guessed", cta: "Find your winner" },
} as const;

/** The visitor from the cookie; no sign-in needed. */
export function HomepageHero() {
  const { variant } = useVisitorExperiment(SLUG);
  const shown = variant === "outcome-led" ? "outcome-led" : "control";
  const copy = COPY[shown];

  return (
    <section data-experiment={SLUG} data-variant={shown}>
      <h1>{copy.headline}</h1>
      <button type="button" onClick={() => trackConversion(SLUG, "trial_start", { placement: "hero" })}>
        {copy.cta}
      </button>
    </section>
  );
}
