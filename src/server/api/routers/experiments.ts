import { TRPCError } from "@trpc/server";
import { servesStoredAssignments } from "@/features/experiments/core/decide";
import { parseForcedVariants } from "@/features/experiments/core/force";
import {
  forRequestInputSchema,
  getVariantInputSchema,
  getVariantsInputSchema,
} from "@/features/experiments/core/inputs";
import { assignmentsForRequest } from "@/features/experiments/server/request-assignments";
import { resolveRequestSubject } from "@/features/experiments/server/request-subject";
import { getEnv } from "../../env";
import { createRateLimiter } from "../../rate-limit";
import { createTRPCRouter, perIp, publicProcedure, type RateLimitRule, rateLimited } from "../trpc";

/**
 * 300 calls a minute per visitor, counted against the visitor cookie first: a client that makes
 * up a new `visitorId` per call must not get a fresh budget each time. The id in the input is
 * counted as well when it differs, because the cookie alone cannot be trusted to be stable: a
 * client that drops cookies, or sends a made-up one per call, has no stable cookie, so for those
 * callers the input's id is the only stable key. Both keys share one budget namespace, so a
 * browser whose SDK sends its cookie id pays once.
 */
const visitorLimiter = createRateLimiter({ name: "experiments:visitor", limit: 300, windowMs: 60_000 });
const inputVisitorId = (input: unknown): string | null => {
  const visitorId = (input as { visitorId?: unknown } | undefined)?.visitorId;
  return typeof visitorId === "string" && visitorId ? visitorId.slice(0, 128) : null;
};
const perVisitorCookie: RateLimitRule = {
  name: "experiments:visitor",
  limiter: visitorLimiter,
  key: (ctx, input) => ctx.visitorId ?? inputVisitorId(input),
};
const perVisitorInput: RateLimitRule = {
  name: "experiments:visitor",
  limiter: visitorLimiter,
  key: (ctx, input) => {
    const claimed = inputVisitorId(input);
    return ctx.visitorId && claimed !== ctx.visitorId ? claimed : null;
  },
};
const limited = publicProcedure.use(
  rateLimited([
    perIp("experiments", getEnv().RATE_LIMIT_ASSIGNMENTS_PER_MINUTE),
    perVisitorCookie,
    perVisitorInput,
  ]),
);

/** The public API: variants for the caller's subjects. Validates, checks who may ask, delegates. */
export const experimentsRouter = createTRPCRouter({
  getVariant: limited.input(getVariantInputSchema).query(async ({ ctx, input }) => {
    const { assignments, repository } = ctx.experiments;
    const { slug, attributes: clientAttributes, ...ids } = input;
    const subject = await resolveRequestSubject(repository, ctx.session, ids, clientAttributes);
    const result = (
      await assignments.getVariants(subject.ids, { slugs: [slug], attributes: subject.attributes })
    )[slug];
    if (!result || result.reason === "unknown-experiment") {
      throw new TRPCError({ code: "NOT_FOUND", message: `No experiment "${slug}"` });
    }
    if (result.reason === "missing-subject") {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `Experiment "${slug}" needs a different subject id for its scope`,
      });
    }
    return result;
  }),

  getVariants: limited.input(getVariantsInputSchema).query(async ({ ctx, input }) => {
    const { assignments, repository } = ctx.experiments;
    const { slugs, attributes: clientAttributes, ...ids } = input;
    const subject = await resolveRequestSubject(repository, ctx.session, ids, clientAttributes);
    return assignments.getVariants(subject.ids, { slugs, attributes: subject.attributes });
  }),

  /**
   * Every experiment for the caller as the server sees them (session user, their team, visitor
   * cookie): what the ExperimentProvider refreshes from, the same call server rendering makes.
   */
  forRequest: limited.input(forRequestInputSchema).query(({ ctx, input }) =>
    assignmentsForRequest(ctx.experiments, {
      session: ctx.session,
      visitorId: ctx.visitorId,
      slugs: input.slugs,
      forced: parseForcedVariants(input.force),
    }),
  ),

  listActiveExperiments: limited.query(async ({ ctx }) => {
    const snapshot = await ctx.experiments.catalog.getSnapshot();
    return (
      [...snapshot.experiments.values()]
        // Running but switched off serves nobody, so it is not active.
        .filter((experiment) => servesStoredAssignments(experiment))
        .map(({ slug, description, version, config }) => ({
          slug,
          description,
          version,
          status: config.status,
          scope: config.scope,
          phase: config.phase,
          variants: config.variants.map((variant) => ({
            name: variant.name,
            percentage: variant.percentage,
          })),
        }))
    );
  }),
});
