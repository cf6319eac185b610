import { z } from "zod";
import { trackEventsInputSchema } from "@/features/experiments/core/events";
import { identifyRequest } from "@/features/experiments/server/request-assignments";
import { getEnv } from "../../env";
import { applyConsent, privacySignalRefuses } from "../../events/consent";
import { createRateLimiter } from "../../rate-limit";
import { createTRPCRouter, perIp, publicProcedure, type RateLimitRule, rateLimited } from "../trpc";

const perVisitor: RateLimitRule = {
  name: "events:visitor",
  limiter: createRateLimiter({ name: "events:visitor", limit: 120, windowMs: 60_000 }),
  key: (ctx) => ctx.session?.user.id ?? ctx.visitorId,
};

/**
 * The browser tracker's endpoint: exposures and conversions in batches, for the subjects the
 * request proves (session and visitor cookie), never for ids the client names.
 */
export const eventsRouter = createTRPCRouter({
  track: publicProcedure
    .use(rateLimited([perIp("events", getEnv().RATE_LIMIT_EVENTS_PER_MINUTE), perVisitor]))
    .input(trackEventsInputSchema)
    .mutation(async ({ ctx, input }) => {
      const { identity } = await identifyRequest(ctx.experiments, ctx.session, ctx.visitorId);
      // One read for the assignments and one insert for the conversions, whatever the batch size.
      const outcomes = await ctx.experiments.events.recordBatch(
        { ids: identity, source: "BROWSER", consent: ctx.consent },
        input.events,
      );
      return { outcomes };
    }),

  /**
   * The consent banner's answer, for the events already held for this visitor (the browser keeps
   * the answer in its own cookie). Do-Not-Track / GPC always count as a refusal.
   */
  setConsent: publicProcedure
    .use(rateLimited([perIp("consent", 60)]))
    .input(z.object({ consent: z.enum(["granted", "denied"]) }))
    .mutation(async ({ ctx, input }) => {
      const consent = privacySignalRefuses(ctx.headers) ? "denied" : input.consent;
      const changed = await applyConsent(
        ctx.db,
        { visitorId: ctx.visitorId, userId: ctx.session?.user.id ?? null },
        consent,
      );
      return { consent, changed };
    }),
});
