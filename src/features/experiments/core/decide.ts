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

/** What the decision needs to know about a stored experiment. */
export type DecidableExperiment = {
  slug: string;
  config: ExperimentConfig;
  /**
   * `Feature.enabled`. Normally true exactly while running; a running experiment whose row says
   * false has been switched off outside the lifecycle (a kill switch, a manual edit) and must not
   * serve. Callers without a database row (pure tests, the browser) leave it out: enabled.
   */
  enabled?: boolean;
};

/**
 * Whether stored assignments of the experiment count now, so reading them is worth a query: a
 * running experiment that is switched on, or a paused one (paused rows are disabled by design and
 * keep serving their subjects' variants).
 */
export function servesStoredAssignments(experiment: DecidableExperiment): boolean {
  const { status } = experiment.config;
  return status === "paused" || (status === "running" && experiment.enabled !== false);
}

/** Everything up to the variant choice: either a final decision, or "eligible" with the hash's pick. */
type Eligibility = { decided: Decision } | { decided: null; hashed: string };

function eligibility(
  experiment: DecidableExperiment,
  subjectId: string,
  existingVariant: string | null,
  attributes: TargetingAttributes,
): Eligibility {
  const { config, slug } = experiment;
  const none = (reason: AssignmentReason): Eligibility => ({
    decided: { variant: null, reason, enroll: false },
  });
  switch (config.status) {
    case "draft":
      return none("not-running");
    case "concluded":
      return { decided: { variant: config.winnerVariant ?? "control", reason: "concluded", enroll: false } };
    case "paused":
      return existingVariant
        ? { decided: { variant: existingVariant, reason: "sticky", enroll: false } }
        : none("not-running");
    case "running":
      // Switched off: nobody is served, not even enrolled subjects (it is an off switch).
      if (experiment.enabled === false) return none("not-running");
      break;
  }
  if (existingVariant) return { decided: { variant: existingVariant, reason: "sticky", enroll: false } };
  if (!evaluateTargeting(config.targetingRules, attributes)) return none("not-targeted");
  if (config.namespace && !inNamespace(subjectId, config.namespace)) return none("outside-namespace");
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
  if (hashed === null) return none("outside-traffic");
  return { decided: null, hashed };
}

/**
 * What a subject of a stored experiment gets, given the assignment it already has in the
 * current phase (or null). Pure: the caller supplies randomness for RANDOM experiments.
 *
 * Order matters and follows the lifecycle rules: drafts (and running experiments switched off)
 * serve nobody; a concluded test serves its winner to everyone; an existing assignment wins while
 * running or paused (sticky, even after the weights changed); a paused test enrolls nobody new;
 * then targeting, namespace and traffic allocation decide whether to enroll, and the hash (or the
 * random draw) picks the variant.
 */
export function decideAssignment(
  experiment: DecidableExperiment,
  subjectId: string,
  existingVariant: string | null,
  attributes: TargetingAttributes,
  random: () => number,
): Decision {
  const outcome = eligibility(experiment, subjectId, existingVariant, attributes);
  if (outcome.decided) return outcome.decided;
  const { config } = experiment;
  const variant =
    config.assignmentType === "random" ? pickWeighted(config.variants, random()) : outcome.hashed;
  return { variant, reason: "assigned", enroll: true };
}

/**
 * Why a peek shows what it shows. `would-assign-randomly`: the subject would be enrolled, but in a
 * RANDOM experiment the variant is drawn at enrolment, so no variant can be named in advance.
 */
export type PeekReason = AssignmentReason | "would-assign-randomly";

export type Peek = { variant: string | null; reason: PeekReason };

/**
 * What {@link decideAssignment} would do, without drawing or enrolling: the same rules, and the
 * hash's pick for deterministic experiments (which is exactly what enrolment would store).
 */
export function peekAssignment(
  experiment: DecidableExperiment,
  subjectId: string,
  existingVariant: string | null,
  attributes: TargetingAttributes,
): Peek {
  const outcome = eligibility(experiment, subjectId, existingVariant, attributes);
  if (outcome.decided) return { variant: outcome.decided.variant, reason: outcome.decided.reason };
  // Any variant named here would be a guess that the draw at enrolment can contradict.
  if (experiment.config.assignmentType === "random")
    return { variant: null, reason: "would-assign-randomly" };
  return { variant: outcome.hashed, reason: "assigned" };
}

/** A uniform number in [0, 1) from the platform's cryptographic generator (browser and Node). */
export function cryptoRandom(): number {
  const [value = 0] = globalThis.crypto.getRandomValues(new Uint32Array(1));
  return value / 2 ** 32;
}
