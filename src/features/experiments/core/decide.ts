import { assignVariant } from "./assign";
import { inNamespace } from "./bucketing";
import type { ExperimentConfig } from "./config";
import { evaluateTargeting } from "./targeting";
import type { TargetingAttributes } from "./targeting-rules";

/** Why a subject got the variant it got (or none). */
export type AssignmentReason =
  | "assigned"
  | "sticky"
  | "not-running"
  | "not-targeted"
  | "outside-traffic"
  | "outside-namespace"
  | "concluded"
  | "unknown-experiment"
  | "missing-subject"
  | "invalid-config"
  /** A QA override (?verdict_force=): shown in this browser only, never stored or tracked. */
  | "forced";

export type Decision = {
  variant: string | null;
  reason: AssignmentReason;
  /** True when `variant` is a new assignment that must be stored before it is served. */
  enroll: boolean;
};

/**
 * The hashing seed of a phase. Phase 1 uses the slug itself, so assignments match GrowthBook's
 * (seed = key) and PostHog's (flag key = slug); a re-randomization (a new phase) must reshuffle
 * everyone, so later phases salt the seed with the phase number.
 */
export function phaseSeed(slug: string, phase: number): string {
  return phase <= 1 ? slug : `${slug}:phase-${phase}`;
}

/** Picks a variant by weight from a uniform number in [0, 1). */
export function pickWeighted(
  variants: readonly { name: string; percentage: number }[],
  uniform: number,
): string {
  const total = variants.reduce((sum, variant) => sum + variant.percentage, 0);
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.percentage / total;
    if (uniform < cumulative) return variant.name;
  }
  // Floating-point sums can end a hair below 1; the last variant with weight takes the remainder.
  const last =
    [...variants].reverse().find((variant) => variant.percentage > 0) ?? variants[variants.length - 1];
  return last?.name ?? "control";
}

/**
 * What a subject of a stored experiment gets, given the assignment it already has in the
 * current phase (or null). Pure: the caller supplies randomness for RANDOM experiments.
 *
 * Order matters and follows the lifecycle rules: drafts serve nobody; a concluded test serves its
 * winner to everyone; an existing assignment wins while running or paused (sticky, even after the
 * weights changed); a paused test enrolls nobody new; then targeting, namespace and traffic
 * allocation decide whether to enroll, and the hash (or the random draw) picks the variant.
 */
export function decideAssignment(
  experiment: { slug: string; config: ExperimentConfig },
  subjectId: string,
  existingVariant: string | null,
  attributes: TargetingAttributes,
  random: () => number,
): Decision {
  const { config, slug } = experiment;
  switch (config.status) {
    case "draft":
      return { variant: null, reason: "not-running", enroll: false };
    case "concluded":
      return { variant: config.winnerVariant ?? "control", reason: "concluded", enroll: false };
    case "paused":
      return existingVariant
        ? { variant: existingVariant, reason: "sticky", enroll: false }
        : { variant: null, reason: "not-running", enroll: false };
    case "running":
      break;
  }
  if (existingVariant) return { variant: existingVariant, reason: "sticky", enroll: false };
  if (!evaluateTargeting(config.targetingRules, attributes)) {
    return { variant: null, reason: "not-targeted", enroll: false };
  }
  if (config.namespace && !inNamespace(subjectId, config.namespace)) {
    return { variant: null, reason: "outside-namespace", enroll: false };
  }
  // Traffic allocation is always decided by the hash, so a subject left out stays out on every
  // request; only the choice among variants is random for RANDOM experiments.
  const hashed = assignVariant(
    {
      slug: phaseSeed(slug, config.phase),
      variants: config.variants,
      trafficPercent: config.trafficPercent,
      hashing: config.hashing,
    },
    subjectId,
  );
  if (hashed === null) return { variant: null, reason: "outside-traffic", enroll: false };
  const variant = config.assignmentType === "random" ? pickWeighted(config.variants, random()) : hashed;
  return { variant, reason: "assigned", enroll: true };
}

/** A uniform number in [0, 1) from the platform's cryptographic generator (browser and Node). */
export function cryptoRandom(): number {
  const [value = 0] = globalThis.crypto.getRandomValues(new Uint32Array(1));
  return value / 2 ** 32;
}
