import { z } from "zod";
import { experimentSlugSchema } from "./config";

/**
 * Ids of users, teams and visitors as callers send them: bounded, and limited to characters that
 * are safe in logs, cookies and PostHog distinct ids.
 */
export const subjectIdSchema = z
  .string()
  .min(1, "An id cannot be empty")
  .max(128, "An id has at most 128 characters")
  .regex(/^[A-Za-z0-9._:@-]+$/, "Ids use letters, digits and . _ : @ -");

const attributeValue = z.union([
  z.string().max(1000),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string().max(1000), z.number(), z.boolean()])).max(100),
]);

/** Free-form targeting attributes from a client; server-known facts (plan, team) override them. */
export const clientAttributesSchema = z
  .record(z.string().min(1).max(100), attributeValue)
  .refine((record) => Object.keys(record).length <= 50, "At most 50 attributes");
export type ClientAttributes = z.infer<typeof clientAttributesSchema>;

export const subjectIdsSchema = z.object({
  userId: subjectIdSchema.optional(),
  teamId: subjectIdSchema.optional(),
  visitorId: subjectIdSchema.optional(),
});

const hasSubject = (ids: z.infer<typeof subjectIdsSchema>) =>
  Boolean(ids.userId || ids.teamId || ids.visitorId);
const subjectMessage = { message: "Give a userId, teamId or visitorId", path: ["visitorId"] };

export const getVariantInputSchema = subjectIdsSchema
  .extend({ slug: experimentSlugSchema, attributes: clientAttributesSchema.optional() })
  .refine(hasSubject, subjectMessage);

export const getVariantsInputSchema = subjectIdsSchema
  .extend({
    slugs: z.array(experimentSlugSchema).max(100).optional(),
    attributes: clientAttributesSchema.optional(),
  })
  .refine(hasSubject, subjectMessage);

export const forRequestInputSchema = z
  .object({
    slugs: z.array(experimentSlugSchema).max(100).optional(),
    /** The page's ?verdict_force= value, applied only where allowed. */
    force: z.string().max(2000).optional(),
  })
  .default({});
