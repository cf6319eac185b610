import { chooseVariationByPercentage } from "./bucketing";
import type { HashingMode } from "./config";
import { hashV2 } from "./hash";
import { posthogInRollout, posthogVariant } from "./posthog";

export type AssignableExperiment = {
  slug: string;
  variants: readonly { name: string; percentage: number }[];
  trafficPercent?: number;
  hashing?: HashingMode;
};

/**
 * The variant a subject gets, or null when outside the traffic allocation. Pure and synchronous.
 *
 * - growthbook-v2 (default): GrowthBook's v2 hash with the slug as seed, bucket ranges from the
 *   percentages with coverage = traffic / 100 — the same answer a GrowthBook SDK gives for an
 *   experiment with that key, weights and coverage.
 * - posthog: PostHog's rollout check (traffic as rollout percentage) then its variant lookup,
 *   with the slug as the flag key — the same answer as a PostHog multivariate flag.
 */
export function assignVariant(experiment: AssignableExperiment, subjectId: string): string | null {
  const { slug, variants } = experiment;
  const trafficPercent = experiment.trafficPercent ?? 100;
  if (variants.length === 0) return null;

  if (experiment.hashing === "posthog") {
    if (!posthogInRollout(slug, subjectId, trafficPercent)) return null;
    return posthogVariant(slug, subjectId, variants);
  }

  const index = chooseVariationByPercentage(hashV2(slug, subjectId), trafficPercent / 100, variants);
  return index < 0 ? null : (variants[index]?.name ?? null);
}
