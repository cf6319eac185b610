import { z } from "zod";
import {
  analysisSettingsSchema,
  assignmentTypeSchema,
  conversionEventNameSchema,
  experimentScopeSchema,
  experimentSlugSchema,
  experimentStatusSchema,
  hashingModeSchema,
  namespaceSchema,
  variantNameSchema,
  variantSchema,
} from "./config";
import { clientAttributesSchema, subjectIdSchema } from "./inputs";
import { targetingRulesSchema } from "./targeting-rules";
import { validateVariants } from "./variants";

/**
 * The admin console's inputs: the same schemas validate the forms in the browser and the tRPC
 * procedures on the server.
 */
const variantsSchema = z.array(variantSchema).superRefine((variants, context) => {
  for (const problem of validateVariants(variants).problems)
    context.addIssue({ code: "custom", message: problem });
});

const descriptionSchema = z.string().trim().max(2000);
const trafficSchema = z.number().min(0).max(100);
const versionSchema = z.number().int().min(1);

export const experimentDraftSchema = z.object({
  slug: experimentSlugSchema,
  description: descriptionSchema.default(""),
  variants: variantsSchema,
  scope: experimentScopeSchema,
  assignmentType: assignmentTypeSchema.default("deterministic"),
  hashing: hashingModeSchema.default("growthbook-v2"),
  trafficPercent: trafficSchema.default(100),
  targetingRules: targetingRulesSchema.default({}),
  conversionEvents: z.array(conversionEventNameSchema).max(50).default([]),
  namespace: namespaceSchema.nullable().default(null),
  setPersonProperty: z.boolean().default(false),
  allowForcedVariants: z.boolean().default(false),
});
export type ExperimentDraft = z.infer<typeof experimentDraftSchema>;

export const experimentUpdateSchema = z.object({
  slug: experimentSlugSchema,
  expectedVersion: versionSchema,
  description: descriptionSchema.optional(),
  variants: variantsSchema.optional(),
  scope: experimentScopeSchema.optional(),
  assignmentType: assignmentTypeSchema.optional(),
  hashing: hashingModeSchema.optional(),
  trafficPercent: trafficSchema.optional(),
  targetingRules: targetingRulesSchema.optional(),
  conversionEvents: z.array(conversionEventNameSchema).max(50).optional(),
  namespace: namespaceSchema.nullable().optional(),
  setPersonProperty: z.boolean().optional(),
  allowForcedVariants: z.boolean().optional(),
  analysis: analysisSettingsSchema.optional(),
  variantChange: z.enum(["keep", "rerandomize"]).optional(),
});

export const lifecycleActionSchema = z.enum(["start", "pause", "resume", "conclude"]);

export const updateStatusSchema = z.object({
  slug: experimentSlugSchema,
  action: lifecycleActionSchema,
  winner: variantNameSchema.nullable().optional(),
  expectedVersion: versionSchema.optional(),
});

export const setWinnerSchema = z.object({
  slug: experimentSlugSchema,
  winner: variantNameSchema,
  expectedVersion: versionSchema.optional(),
});

export const deleteExperimentSchema = z
  .object({ slug: experimentSlugSchema, confirmSlug: z.string(), expectedVersion: versionSchema.optional() })
  .refine((input) => input.confirmSlug === input.slug, {
    message: "Type the experiment's slug to confirm",
    path: ["confirmSlug"],
  });

export const listExperimentsSchema = z
  .object({ status: experimentStatusSchema.optional(), search: z.string().trim().max(100).optional() })
  .default({});

export const slugInputSchema = z.object({ slug: experimentSlugSchema });

export const statsInputSchema = z.object({
  slug: experimentSlugSchema,
  phase: z.number().int().min(1).optional(),
});

export const resultsInputSchema = z.object({
  slug: experimentSlugSchema,
  phase: z.number().int().min(1).optional(),
  population: analysisSettingsSchema.shape.population.optional(),
});

export const convertFlagSchema = z.object({
  flagSlug: experimentSlugSchema,
  scope: z.enum(["user", "team"]).default("user"),
  start: z.boolean().default(true),
});

export const auditLogInputSchema = z.object({
  slug: experimentSlugSchema,
  limit: z.number().int().min(1).max(200).default(50),
  before: z.date().optional(),
});

export const subjectLookupSchema = z.object({ kind: experimentScopeSchema, id: subjectIdSchema });

/** The targeting editor's preview: rules as edited (maybe unsaved), one subject, typed attributes. */
export const targetingPreviewSchema = z.object({
  slug: experimentSlugSchema.optional(),
  rules: targetingRulesSchema,
  subject: subjectLookupSchema,
  attributes: clientAttributesSchema.default({}),
});
