import { z } from "zod";
import { trackEventsInputSchema } from "@/features/experiments/core/events";
import { trackBrowserEvents } from "@/features/experiments/server/track-events";
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
 * request proves (session and visitor cookie), or for the ids an event names when the caller may
 * speak for them (as for `getVariant`).
 */
export const eventsRouter = createTRPCRouter({
  track: publicProcedure
    .use(rateLimited([perIp("events", getEnv().RATE_LIMIT_EVENTS_PER_MINUTE), perVisitor]))
    .input(trackEventsInputSchema)
    .mutation(async ({ ctx, input }) => {
      // Per subject in the batch: one read for the assignments, one insert for the conversions.
      const outcomes = await trackBrowserEvents(
        ctx.experiments,
        { session: ctx.session, visitorId: ctx.visitorId, consent: ctx.consent },
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
