import { z } from "zod";

/** Team plans, as stored on `Team.plan` (lower-case here; the Prisma enum is upper-case). */
export const teamPlanSchema = z.enum(["individual", "teams", "organization"]);
export type TeamPlan = z.infer<typeof teamPlanSchema>;

const idListSchema = z.array(z.string().trim().min(1).max(200)).max(1000);

/**
 * An experiment's audience. Every present rule must match (AND); an empty rule set includes
 * everyone. `condition` is GrowthBook's targeting condition language, evaluated against the
 * subject's attributes.
 */
export const targetingRulesSchema = z
  .object({
    plans: z.array(teamPlanSchema).max(3).optional(),
    teamIds: idListSchema.optional(),
    organizationIds: idListSchema.optional(),
    /** As in the plan Verdict grew from: true leaves out every subject whose team belongs to an organization. */
    excludeOrganizations: z.boolean().optional(),
    condition: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type TargetingRules = z.infer<typeof targetingRulesSchema>;

/** What targeting is evaluated against: the subject's known facts plus free-form attributes. */
export type TargetingAttributes = {
  plan?: TeamPlan | null;
  teamId?: string | null;
  organizationId?: string | null;
  [attribute: string]: unknown;
};
