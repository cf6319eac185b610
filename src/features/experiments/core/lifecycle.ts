import {
  type AnalysisSettings,
  type ExperimentConfig,
  type ExperimentStatus,
  experimentConfigSchema,
  type Variant,
} from "./config";
import type { TargetingRules } from "./targeting-rules";
import { validateVariants } from "./variants";

export type LifecycleAction = "start" | "pause" | "resume" | "conclude";

/** A refused change, with the reason in words an admin can act on. */
export type Refusal = { ok: false; reason: string };
export type Outcome = { ok: true; config: ExperimentConfig } | Refusal;

const ALLOWED: Record<LifecycleAction, ExperimentStatus[]> = {
  start: ["draft"],
  pause: ["running"],
  resume: ["paused"],
  conclude: ["running", "paused"],
};

const WHY_NOT: Record<LifecycleAction, string> = {
  start: "only a draft can be started",
  pause: "only a running experiment can be paused",
  resume: "only a paused experiment can be resumed",
  conclude: "only a running or paused experiment can be concluded",
};

/** `Feature.enabled` is true exactly while the experiment runs. */
export function isEnabled(config: ExperimentConfig): boolean {
  return config.status === "running";
}

/** The next configuration after a lifecycle action, or why the action is not allowed now. */
export function applyTransition(
  config: ExperimentConfig,
  action: LifecycleAction,
  now: Date,
  options: { winner?: string | null } = {},
): Outcome {
  if (!ALLOWED[action].includes(config.status)) {
    return {
      ok: false,
      reason: `Cannot ${action} an experiment that is ${config.status}: ${WHY_NOT[action]}.`,
    };
  }
  const at = now.toISOString();
  switch (action) {
    case "start":
      return { ok: true, config: { ...config, status: "running", startedAt: at, pausedAt: null } };
    case "pause":
      return { ok: true, config: { ...config, status: "paused", pausedAt: at } };
    case "resume":
      return { ok: true, config: { ...config, status: "running", pausedAt: null } };
    case "conclude": {
      const winner = options.winner ?? null;
      const refusal = checkWinner(config, winner);
      if (refusal) return refusal;
      return {
        ok: true,
        config: { ...config, status: "concluded", endedAt: at, pausedAt: null, winnerVariant: winner },
      };
    }
  }
}

/** Changes the winner of a concluded experiment. */
export function applyWinner(config: ExperimentConfig, winner: string): Outcome {
  if (config.status !== "concluded") {
    return { ok: false, reason: `Only a concluded experiment has a winner; this one is ${config.status}.` };
  }
  return checkWinner(config, winner) ?? { ok: true, config: { ...config, winnerVariant: winner } };
}

function checkWinner(config: ExperimentConfig, winner: string | null): Refusal | null {
  if (winner === null || config.variants.some((variant) => variant.name === winner)) return null;
  const names = config.variants.map((variant) => variant.name).join(", ");
  return { ok: false, reason: `The winner "${winner}" is not a variant of this experiment (${names}).` };
}

/** What an admin may change with an edit; lifecycle fields change only through transitions. */
export type ConfigPatch = {
  variants?: Variant[];
  trafficPercent?: number;
  targetingRules?: TargetingRules;
  conversionEvents?: string[];
  setPersonProperty?: boolean;
  allowForcedVariants?: boolean;
  /** How results are read: safe to change at any time, it never touches assignments. */
  analysis?: AnalysisSettings;
  scope?: ExperimentConfig["scope"];
  assignmentType?: ExperimentConfig["assignmentType"];
  hashing?: ExperimentConfig["hashing"];
  namespace?: ExperimentConfig["namespace"];
};

/**
 * How a running test takes new variants or weights: `keep` leaves every assignment as it is (new
 * subjects get the new split, so the arms' populations mix old and new weights); `rerandomize`
 * starts a new phase, re-buckets everyone and restarts the results.
 */
export type VariantChangeMode = "keep" | "rerandomize";

const DESIGN_FIELDS = ["scope", "assignmentType", "hashing", "namespace"] as const;

function sameVariants(a: Variant[], b: Variant[]): boolean {
  return (
    a.length === b.length &&
    a.every((variant, i) => variant.name === b[i]?.name && variant.percentage === b[i]?.percentage)
  );
}

/**
 * Applies an edit under the lifecycle's rules: everything may change in a draft; once started,
 * the design (scope, assignment type, hashing, namespace) is fixed, traffic may only grow,
 * variants and weights change only with an explicit {@link VariantChangeMode}; a concluded test
 * keeps its variants. Targeting, conversion events and the person property may change any time.
 */
export function applyConfigChange(
  config: ExperimentConfig,
  patch: ConfigPatch,
  mode?: VariantChangeMode,
): Outcome {
  const next: ExperimentConfig = { ...config };
  const draft = config.status === "draft";

  for (const field of DESIGN_FIELDS) {
    if (patch[field] === undefined || JSON.stringify(patch[field]) === JSON.stringify(config[field]))
      continue;
    if (!draft) return { ok: false, reason: `The ${field} can only change while the experiment is a draft.` };
    Object.assign(next, { [field]: patch[field] });
  }

  if (patch.variants && !sameVariants(patch.variants, config.variants)) {
    const check = validateVariants(patch.variants);
    if (!check.valid) return { ok: false, reason: check.problems.join(" ") };
    if (config.status === "concluded")
      return { ok: false, reason: "A concluded experiment's variants cannot change." };
    if (!draft) {
      if (!mode) {
        return {
          ok: false,
          reason:
            "Changing variants or weights of a started experiment needs a choice: keep existing assignments, or re-randomize (a new phase; results restart).",
        };
      }
      if (
        mode === "keep" &&
        config.variants.some((old) => !patch.variants?.some((v) => v.name === old.name))
      ) {
        return {
          ok: false,
          reason: "Removing a variant needs a re-randomization: its subjects would have nowhere to go.",
        };
      }
    }
    next.variants = patch.variants;
    if (next.winnerVariant && !patch.variants.some((v) => v.name === next.winnerVariant))
      next.winnerVariant = null;
  }

  if (patch.trafficPercent !== undefined && patch.trafficPercent !== config.trafficPercent) {
    if (!draft && mode !== "rerandomize" && patch.trafficPercent < config.trafficPercent) {
      return {
        ok: false,
        reason: `Traffic allocation can only grow once started (now ${config.trafficPercent}%): lowering it would strand enrolled subjects outside the test.`,
      };
    }
    next.trafficPercent = patch.trafficPercent;
  }
  // A re-randomization is explicit: it starts a new phase even when nothing else changed (e.g. to
  // reshuffle after a bug), and earlier assignments stop being sticky.
  if (mode === "rerandomize") {
    if (draft) return { ok: false, reason: "A draft has no assignments to re-randomize." };
    if (config.status === "concluded")
      return { ok: false, reason: "A concluded experiment cannot be re-randomized." };
    next.phase = config.phase + 1;
  }
  if (patch.targetingRules !== undefined) next.targetingRules = patch.targetingRules;
  if (patch.conversionEvents !== undefined) next.conversionEvents = patch.conversionEvents;
  if (patch.setPersonProperty !== undefined) next.setPersonProperty = patch.setPersonProperty;
  if (patch.allowForcedVariants !== undefined) next.allowForcedVariants = patch.allowForcedVariants;
  if (patch.analysis !== undefined) next.analysis = patch.analysis;

  const parsed = experimentConfigSchema.safeParse(next);
  if (!parsed.success)
    return {
      ok: false,
      reason: parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "),
    };
  return { ok: true, config: parsed.data };
}
