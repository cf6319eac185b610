import { z } from "zod";
import { trackEventsInputSchema } from "@/features/experiments/core/events";
import type { RecordOutcome } from "@/features/experiments/server/event-recorder";
import { identifyRequest } from "@/features/experiments/server/request-assignments";
import { applyConsent, privacySignalRefuses } from "../../events/consent";
import { MemoryRateLimiter } from "../../rate-limit";
import { createTRPCRouter, perIp, publicProcedure, type RateLimitRule, rateLimited } from "../trpc";

const perVisitor: RateLimitRule = {
  name: "events:visitor",
  limiter: new MemoryRateLimiter(120, 60_000),
  key: (ctx) => ctx.session?.user.id ?? ctx.visitorId,
};

/**
 * The browser tracker's endpoint: exposures and conversions in batches, for the subjects the
 * request proves (session and visitor cookie), never for ids the client names.
 */
export const eventsRouter = createTRPCRouter({
  track: publicProcedure
    .use(rateLimited([perIp("events", 600), perVisitor]))
    .input(trackEventsInputSchema)
    .mutation(async ({ ctx, input }) => {
      const { identity } = await identifyRequest(ctx.experiments, ctx.session, ctx.visitorId);
      const common = { ids: identity, source: "BROWSER" as const, consent: ctx.consent };
      const outcomes: RecordOutcome[] = [];
      // Sequential on purpose: a batch is small, and order keeps an exposure before its conversion.
      for (const event of input.events) {
        outcomes.push(
          event.type === "exposure"
            ? await ctx.experiments.events.recordExposure({
                ...common,
                slug: event.slug,
                variant: event.variant,
                occurredAt: event.occurredAt,
              })
            : await ctx.experiments.events.recordConversion({
                ...common,
                slug: event.slug,
                event: event.event,
                idempotencyKey: event.idempotencyKey,
                properties: event.properties,
                occurredAt: event.occurredAt,
              }),
        );
      }
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
