import type { CreateExperimentInput } from "../types";

/**
 * A visitor-level test: anonymous visitors are told apart by the `verdict_vid` cookie that
 * proxy.ts sets on their first request, so the first HTML already carries their variant.
 */
export const homepageHeroExperiment = {
  slug: "homepage-hero",
  description: "Does an outcome-led headline get more visitors to start a trial?",
  scope: "visitor",
  variants: [
    { name: "control", percentage: 50, description: "“Experimentation you can host yourself”" },
    { name: "outcome-led", percentage: 50, description: "“Ship the variant that wins”" },
  ],
  conversionEvents: ["trial_start"],
  // Lets anyone preview a variant with ?verdict_force=homepage-hero:outcome-led (admins always can).
  allowForcedVariants: true,
} satisfies CreateExperimentInput;
