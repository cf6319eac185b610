import type { PrismaClient } from "@/generated/prisma/client";
import { logger } from "../logger";

/** Arbitrary, fixed: the advisory lock that keeps concurrent refreshes from racing. */
const ROLLUP_LOCK_KEY = 74_627_101;

/**
 * Recomputes `experiment_rollups_daily` from the event store for every day on or after `since`
 * (a full rebuild when omitted). Exposures are deduplicated events already, so they add up; a
 * converter is counted on the day of their first conversion (per event and phase), so days add up
 * to exact unique converters. Safe with several instances: one refresh at a time, by advisory
 * lock; the others skip. Returns the rows written, or null when another refresh held the lock.
 */
export async function refreshRollups(db: PrismaClient, since?: Date): Promise<number | null> {
  const from = since ?? new Date(0);
  return db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<
        { locked: boolean }[]
      >`select pg_try_advisory_xact_lock(${ROLLUP_LOCK_KEY}) as locked`;
      if (!lock?.locked) return null;
      await tx.$executeRaw`delete from "experiment_rollups_daily" where "day" >= ${from}::date`;
      return tx.$executeRaw`
        with exposures as (
          select "occurredAt"::date as day, "experimentSlug" as slug, coalesce("phase", 1) as phase, "variant", count(*)::int as n
          from "Event"
          where "name" = 'experiment_viewed' and "experimentSlug" is not null and "variant" is not null
            and "occurredAt" >= ${from}::date
          group by 1, 2, 3, 4
        ),
        conversions as (
          select "experimentSlug" as slug, coalesce("phase", 1) as phase, "variant",
            "properties"->>'conversion_event' as event, "occurredAt",
            coalesce("userId", "teamId", "visitorId") as subject,
            case when jsonb_typeof("properties"->'value') = 'number' then ("properties"->>'value')::float8
                 when ("properties"->>'value') ~ '^-?[0-9]+(\\.[0-9]+)?$' then ("properties"->>'value')::float8
                 else 0 end as value,
            "properties"->>'currency' as currency
          from "Event"
          where "name" = 'experiment_conversion' and "experimentSlug" is not null and "variant" is not null
        ),
        firsts as (
          select slug, phase, variant, event, subject, min("occurredAt")::date as day
          from conversions group by 1, 2, 3, 4, 5
        ),
        per_event as (
          select c.day, c.slug, c.phase, c.variant, c.event, c.n, c.revenue, c.currency,
            coalesce(f.converters, 0) as converters
          from (
            select "occurredAt"::date as day, slug, phase, variant, event, count(*)::int as n,
              sum(value) as revenue, max(currency) as currency
            from conversions where "occurredAt" >= ${from}::date group by 1, 2, 3, 4, 5
          ) c
          left join (
            select day, slug, phase, variant, event, count(*)::int as converters
            from firsts group by 1, 2, 3, 4, 5
          ) f using (day, slug, phase, variant, event)
        ),
        per_variant as (
          select day, slug, phase, variant,
            jsonb_object_agg(event, jsonb_build_object('count', n, 'converters', converters)) as conversions,
            sum(case when event = 'purchase' then revenue else 0 end) as revenue, max(currency) as currency
          from per_event group by 1, 2, 3, 4
        )
        insert into "experiment_rollups_daily"
          ("day", "experimentSlug", "phase", "variant", "exposures", "conversions", "revenue", "currency", "updatedAt")
        select coalesce(e.day, v.day), coalesce(e.slug, v.slug), coalesce(e.phase, v.phase), coalesce(e.variant, v.variant),
          coalesce(e.n, 0), coalesce(v.conversions, '{}'::jsonb), coalesce(v.revenue, 0), v.currency, now()
        from exposures e
        full outer join per_variant v on v.day = e.day and v.slug = e.slug and v.phase = e.phase and v.variant = e.variant`;
    },
    { timeout: 120_000 },
  );
}

/**
 * Keeps rollups fresh inside the app: every few minutes, the last two days (late events land in
 * yesterday too); a full rebuild is `npm run rollups:refresh -- --full`.
 */
export function scheduleRollups(db: PrismaClient, everyMs = 5 * 60_000): () => void {
  const run = () =>
    refreshRollups(db, new Date(Date.now() - 2 * 86_400_000)).catch((error: unknown) =>
      logger.warn("rollup refresh failed; will retry", { error: String(error) }),
    );
  const timer = setInterval(run, everyMs);
  timer.unref();
  void run();
  return () => clearInterval(timer);
}
