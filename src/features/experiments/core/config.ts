import { z } from "zod";
import { targetingRulesSchema } from "./targeting-rules";
import { validateVariants } from "./variants";

/** Admin console paths under /admin/experiments/ that an experiment slug would shadow. */
export const RESERVED_SLUGS: readonly string[] = ["new", "subjects", "flags", "delivery"];

/** Lower-case kebab words, 3–64 characters: safe in URLs, cookies, PostHog property names. */
export const experimentSlugSchema = z
  .string()
  .min(3, "A slug has at least 3 characters")
  .max(64, "A slug has at most 64 characters")
  .regex(
    /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
    "Use lower-case letters, digits and single hyphens (e.g. landing-hero)",
  )
  .refine((slug) => !RESERVED_SLUGS.includes(slug), {
    message: "This word is reserved by the admin console; choose another slug",
  });

export const variantNameSchema = z
  .string()
  .trim()
  .min(1, "A variant needs a name")
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "Variant names use letters, digits, '-' and '_'");

export const variantSchema = z.object({
  name: variantNameSchema,
  percentage: z.number().min(0).max(100),
  description: z.string().max(500).optional(),
});
export type Variant = z.infer<typeof variantSchema>;

export const experimentStatusSchema = z.enum(["draft", "running", "paused", "concluded"]);
export type ExperimentStatus = z.infer<typeof experimentStatusSchema>;
export const assignmentTypeSchema = z.enum(["deterministic", "random"]);
export const experimentScopeSchema = z.enum(["user", "team", "visitor"]);
export type ExperimentScope = z.infer<typeof experimentScopeSchema>;
export const hashingModeSchema = z.enum(["growthbook-v2", "posthog"]);
export type HashingMode = z.infer<typeof hashingModeSchema>;

/** GrowthBook-style namespace: [name, start, end) with 0 ≤ start < end ≤ 1. */
export const namespaceSchema = z
  .tuple([z.string().min(1).max(64), z.number().min(0).max(1), z.number().min(0).max(1)])
  .refine(([, start, end]) => start < end, "A namespace range needs start < end");

export const conversionEventNameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z][a-z0-9_]*$/, "Event names are snake_case (e.g. cta_click)");

const isoDate = z.iso.datetime({ offset: true });

/** Revenue per participant, from purchase conversions' `value`: a metric beside the conversion events. */
export const REVENUE_METRIC = "revenue";
export const metricKeySchema = z.union([conversionEventNameSchema, z.literal(REVENUE_METRIC)]);

/**
 * How results are analysed. Defaults follow what peers ship: sequential testing on (peeking is
 * safe), Holm–Bonferroni across variants × goal metrics, exposure-based analysis, 10% minimum
 * detectable effect for the planned sample.
 */
export const analysisSettingsSchema = z.object({
  /** The metric the verdict is about; the first conversion event when null. */
  primaryMetric: metricKeySchema.nullable().default(null),
  /** Metrics watched for harm: a significant regression is a red flag whatever the primary says. */
  guardrails: z.array(metricKeySchema).max(20).default([]),
  /** Metrics where a fall is the good news (refunds, churn): their regressions are rises. */
  lowerIsBetter: z.array(metricKeySchema).max(20).default([]),
  alpha: z.number().min(0.001).max(0.2).default(0.05),
  power: z.number().min(0.5).max(0.99).default(0.8),
  /** Relative lift the planned sample should detect (0.1 = 10%). */
  minDetectableEffect: z.number().min(0.005).max(10).default(0.1),
  sequential: z.boolean().default(true),
  /** Revenue adjusted by each subject's purchases in the 30 days before exposure, when there are any. */
  cuped: z.boolean().default(true),
  /** GrowthBook's N*: the sample size at which the confidence sequence is tightest. */
  sequentialTuning: z.number().int().min(100).max(10_000_000).default(5000),
  correction: z.enum(["none", "holm", "benjamini-hochberg"]).default("holm"),
  /** Exposure-based by default (only subjects who saw their variant); "assigned" is intent-to-treat. */
  population: z.enum(["exposed", "assigned"]).default("exposed"),
});
export type AnalysisSettings = z.infer<typeof analysisSettingsSchema>;
export const DEFAULT_ANALYSIS: AnalysisSettings = analysisSettingsSchema.parse({});

/** The current version of the experiment configuration stored in `Feature.metadata`. */
export const EXPERIMENT_CONFIG_VERSION = 1 as const;

/**
 * The one schema of an experiment's configuration: `Feature.metadata` for type EXPERIMENT, the
 * admin forms and the tRPC inputs all parse through it.
 */
export const experimentConfigSchema = z
  .object({
    schemaVersion: z.literal(EXPERIMENT_CONFIG_VERSION).default(EXPERIMENT_CONFIG_VERSION),
    variants: z.array(variantSchema).min(2).max(20),
    assignmentType: assignmentTypeSchema.default("deterministic"),
    scope: experimentScopeSchema,
    status: experimentStatusSchema.default("draft"),
    startedAt: isoDate.nullable().default(null),
    pausedAt: isoDate.nullable().default(null),
    endedAt: isoDate.nullable().default(null),
    winnerVariant: variantNameSchema.nullable().default(null),
    targetingRules: targetingRulesSchema.default({}),
    trafficPercent: z.number().min(0).max(100).default(100),
    hashing: hashingModeSchema.default("growthbook-v2"),
    namespace: namespaceSchema.nullable().default(null),
    phase: z.number().int().min(1).default(1),
    setPersonProperty: z.boolean().default(false),
    conversionEvents: z.array(conversionEventNameSchema).max(50).default([]),
    /** Lets anyone preview a variant with ?verdict_force= (admins always can). */
    allowForcedVariants: z.boolean().default(false),
    analysis: analysisSettingsSchema.default(DEFAULT_ANALYSIS),
  })
  // Field by field the shape can be right and the experiment still unservable (no control, a
  // split that is not 100%, a winner that is no variant): stored metadata is checked as a whole,
  // the same rules the admin forms apply, so a bad row is reported by name instead of served.
  .superRefine((config, context) => {
    for (const problem of validateVariants(config.variants).problems)
      context.addIssue({ code: "custom", path: ["variants"], message: problem });
    if (config.winnerVariant !== null && !config.variants.some((v) => v.name === config.winnerVariant)) {
      const names = config.variants.map((variant) => variant.name).join(", ");
      context.addIssue({
        code: "custom",
        path: ["winnerVariant"],
        message: `The winner "${config.winnerVariant}" is not a variant of this experiment (${names}).`,
      });
    }
  });
export type ExperimentConfig = z.infer<typeof experimentConfigSchema>;
export type ExperimentConfigInput = z.input<typeof experimentConfigSchema>;

/** Raised when a stored configuration does not parse: names the experiment and every problem. */
export class InvalidExperimentConfigError extends Error {
  readonly code = "INVALID_EXPERIMENT_CONFIG" as const;
  constructor(
    readonly slug: string,
    readonly issues: string[],
  ) {
    super(`Experiment "${slug}" has an invalid configuration: ${issues.join("; ")}`);
    this.name = "InvalidExperimentConfigError";
  }
}

export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`,
  );
}

/** Parses `Feature.metadata`; throws {@link InvalidExperimentConfigError} naming the experiment. */
export function parseExperimentConfig(slug: string, metadata: unknown): ExperimentConfig {
  const result = experimentConfigSchema.safeParse(metadata);
  if (!result.success) throw new InvalidExperimentConfigError(slug, formatZodIssues(result.error));
  return result.data;
}
