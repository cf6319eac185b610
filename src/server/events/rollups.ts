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
export async function refreshRollups(db: PrismaClient, since?: Date, slug?: string): Promise<number | null> {
  const from = since ?? new Date(0);
  // One experiment's rows only, when given (the results page keeps its own test fresh).
  const only = slug ?? null;
  return db.$transaction(
    async (tx) => {
      const [lock] = await tx.$queryRaw<
        { locked: boolean }[]
      >`select pg_try_advisory_xact_lock(${ROLLUP_LOCK_KEY}) as locked`;
      if (!lock?.locked) return null;
      await tx.$executeRaw`delete from "experiment_rollups_daily"
        where "day" >= ${from}::date and (${only}::text is null or "experimentSlug" = ${only})`;
      return tx.$executeRaw`
        with exposures as (
          select "occurredAt"::date as day, "experimentSlug" as slug, coalesce("phase", 1) as phase, "variant", count(*)::int as n
          from "Event"
          where "name" = 'experiment_viewed' and "experimentSlug" is not null and "variant" is not null
            and "occurredAt" >= ${from}::date and (${only}::text is null or "experimentSlug" = ${only})
          group by 1, 2, 3, 4
        ),
        assigned as (
          select "assignedAt"::date as day, "experimentSlug" as slug, "phase", "variant", count(*)::int as n
          from "ExperimentVariant"
          where "assignedAt" >= ${from}::date and (${only}::text is null or "experimentSlug" = ${only})
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
            and (${only}::text is null or "experimentSlug" = ${only})
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
        ),
        squares as (
          select day, slug, phase, variant, sum(v * v) as sq
          from (
            select "occurredAt"::date as day, slug, phase, variant, subject, sum(value) as v
            from conversions where event = 'purchase' and "occurredAt" >= ${from}::date
            group by 1, 2, 3, 4, 5
          ) per_subject
          group by 1, 2, 3, 4
        ),
        days as (
          select day, slug, phase, variant from exposures
          union select day, slug, phase, variant from assigned
          union select day, slug, phase, variant from per_variant
        )
        insert into "experiment_rollups_daily"
          ("day", "experimentSlug", "phase", "variant", "assignments", "exposures", "conversions", "revenue",
           "revenueSquares", "currency", "updatedAt")
        select d.day, d.slug, d.phase, d.variant, coalesce(a.n, 0), coalesce(e.n, 0),
          coalesce(v.conversions, '{}'::jsonb), coalesce(v.revenue, 0), coalesce(s.sq, 0), v.currency, now()
        from days d
        left join assigned a using (day, slug, phase, variant)
        left join exposures e using (day, slug, phase, variant)
        left join per_variant v using (day, slug, phase, variant)
        left join squares s using (day, slug, phase, variant)`;
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
