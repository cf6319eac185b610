import { Prisma, type PrismaClient } from "@/generated/prisma/client";

/** Arbitrary, fixed: the advisory lock that keeps concurrent refreshes from racing. */
const ROLLUP_LOCK_KEY = 74_627_101;

/**
 * The `conversions` key under which a row keeps its flagged subjects (assigned that day, seen in
 * another variant). Conversion event names are snake_case, so no event can take this key.
 */
export const FLAGGED_KEY = "$flagged";

/** A full rebuild reads every event of every experiment: at 1M/5M it took up to 130 s. */
const RECENT_REFRESH_TIMEOUT_MS = 120_000;
const FULL_REBUILD_TIMEOUT_MS = 30 * 60_000;

/**
 * A numeric `value` property, whether sent as a JSON number or a decimal string (Shopify sends
 * prices as strings); anything else counts as zero revenue. The results' raw pass reads it alike.
 */
export function numericValueSql(alias: string): Prisma.Sql {
  const properties = Prisma.raw(`${alias}."properties"`);
  return Prisma.sql`case
    when jsonb_typeof(${properties}->'value') = 'number' then (${properties}->>'value')::float8
    when (${properties}->>'value') ~ '^-?[0-9]+(\\.[0-9]+)?$' then (${properties}->>'value')::float8
    else 0 end`;
}

/** The subject a ledger (`a`) or event (`e`) row stands for, keyed by its experiment's scope (`s`). */
const subjectOf = (alias: "a" | "e" | "p") =>
  Prisma.raw(
    `case s.scope when 'user' then ${alias}."userId" when 'team' then ${alias}."teamId" when 'visitor' then ${alias}."visitorId" end`,
  );

/**
 * Recomputes `experiment_rollups_daily` from the event store for every day on or after `since`
 * (a full rebuild when omitted). Every figure is the event-store results' figure split by day, so
 * the days of a phase add up to exactly what the results read from the raw events:
 * - subjects are the assignment ledger's, keyed by the experiment's scope (a team test's
 *   subject is the team, whoever in it converted), and credited to the variant they were assigned;
 * - `assignments` by day assigned, `exposures` by day first exposed (the ledger's stamp);
 * - per conversion event: `count` events, `converters` on the day of a subject's first conversion,
 *   `exposedConverters` on the later of that day and the subject's first exposure (the day they
 *   join the exposure-based analysis);
 * - `revenue` and `revenueSquares` for every assigned subject, and for exposed ones
 *   `exposedRevenue` and `exposedRevenueSquares` in the `purchase` entry. A square does not split
 *   by day, so each day adds (the subject's revenue so far)² − (before that day)²: the days
 *   telescope to the square of each subject's total.
 * A figure lands on the day it changes, so refreshing recent days keeps the totals exact, and such
 * a refresh rereads only the subjects with an event or a first exposure since then. Flags
 * are the exception (an assignment is flagged any time, and flagged again later), so they are
 * recounted for every day on each refresh, by day assigned, under FLAGGED_KEY.
 * Safe with several instances: one refresh at a time, by advisory lock; the others skip (or, with
 * `wait`, queue behind it). Returns the rows written, or null when another refresh held the lock.
 */
export async function refreshRollups(
  db: PrismaClient,
  since?: Date,
  slug?: string,
  options: { wait?: boolean } = {},
): Promise<number | null> {
  const from = since ?? new Date(0);
  // One experiment's rows only, when given (the results page keeps its own test fresh).
  const only = slug ?? null;
  // A partial refresh reads the histories of the subjects with news since `from` only (a top-level
  // condition, not an OR with a flag: only then is it planned as a semi-join).
  const partial = since !== undefined;
  const onlyTouched = (alias: "c" | "l") =>
    partial
      ? Prisma.raw(
          `and (${alias}.slug, ${alias}.phase, ${alias}.subject) in (select slug, phase, subject from touched)`,
        )
      : Prisma.empty;
  return db.$transaction(
    async (tx) => {
      if (!(await takeRollupLock(tx, options.wait ?? false))) return null;
      // A partial refresh joins by hash or merge only, each linear in its inputs whatever the
      // statistics say. With none (a bulk load before ANALYZE, or PGlite, which has no autovacuum)
      // the planner took the touched subjects for a handful and nested-looped them against every
      // event for minutes; without nested loops the demo's refresh takes under 0.5 s on PGlite
      // with its statistics wiped. A full rebuild has no such join (and measured slower so).
      if (partial) await tx.$queryRaw`select set_config('enable_nestloop', 'off', true)`;
      await tx.$executeRaw`delete from "experiment_rollups_daily"
        where "day" >= ${from}::date and (${only}::text is null or "experimentSlug" = ${only})`;
      const written = await tx.$executeRaw`
        with scopes as (
          select "slug", "metadata"->>'scope' as scope
          from "Feature"
          where ${only}::text is null or "slug" = ${only}
        ),
        ledger as (
          select a."experimentSlug" as slug, a."phase", a."variant", a."firstExposedAt"::date as exposed_day,
            a."firstExposedAt" as exposed_at, s.scope,
            ${subjectOf("a")}
              as subject
          from "ExperimentVariant" a join scopes s on s."slug" = a."experimentSlug"
        ),
        assigned as (
          select "assignedAt"::date as day, "experimentSlug" as slug, "phase", "variant", count(*)::int as n
          from "ExperimentVariant"
          where "assignedAt" >= ${from}::date and (${only}::text is null or "experimentSlug" = ${only})
          group by 1, 2, 3, 4
        ),
        exposures as (
          select "firstExposedAt"::date as day, "experimentSlug" as slug, "phase", "variant", count(*)::int as n
          from "ExperimentVariant"
          where "firstExposedAt" >= ${from}::date and (${only}::text is null or "experimentSlug" = ${only})
          group by 1, 2, 3, 4
        ),
        -- A subject's figures land on the days of their events and of their exposure: on a partial
        -- refresh only those with one of either since then can change a rewritten day, and only
        -- their histories are read (all of each, for first conversions and revenue so far).
        touched as (
          select e."experimentSlug" as slug, coalesce(e."phase", 1) as phase,
            ${subjectOf("e")}
              as subject
          from "Event" e join scopes s on s."slug" = e."experimentSlug"
          where e."name" = 'experiment_conversion' and e."occurredAt" >= ${from}::date
            and e."properties"->>'conversion_event' is not null
          union
          select l.slug, l."phase", l.subject from ledger l where l.exposed_day >= ${from}::date
        ),
        conversions as (
          select * from (
            select e."experimentSlug" as slug, coalesce(e."phase", 1) as phase,
              e."properties"->>'conversion_event' as event, e."occurredAt"::date as day,
              ${subjectOf("e")}
                as subject,
              ${numericValueSql("e")} as value,
              e."properties"->>'currency' as currency
            from "Event" e join scopes s on s."slug" = e."experimentSlug"
            where e."name" = 'experiment_conversion' and e."properties"->>'conversion_event' is not null
            -- A fence: c.subject stays a column, so the semi-join below hashes on it (flattened, the
            -- planner could join touched to the ledger first and then compare subjects row by row).
            offset 0
          ) c
          where true ${onlyTouched("c")}
        ),
        subject_days as (
          select c.slug, c.phase, l."variant", c.event, c.subject, l.exposed_day, c.day,
            count(*)::int as n, sum(c.value) as value, max(c.currency) as currency
          from conversions c
          join ledger l on l.slug = c.slug and l."phase" = c.phase and l.subject = c.subject
          group by 1, 2, 3, 4, 5, 6, 7
        ),
        firsts as (
          select slug, phase, variant, event, exposed_day, min(day) as day
          from subject_days group by slug, phase, variant, event, subject, exposed_day
        ),
        per_event as (
          select day, slug, phase, variant, event, sum(n)::int as n, sum(converters)::int as converters,
            sum(exposed_converters)::int as exposed_converters, max(currency) as currency
          from (
            select day, slug, phase, variant, event, n, 0 as converters, 0 as exposed_converters, currency
            from subject_days
            union all
            select day, slug, phase, variant, event, 0, 1, 0, null from firsts
            union all
            select greatest(day, exposed_day), slug, phase, variant, event, 0, 0, 1, null
            from firsts where exposed_day is not null
          ) figures
          where day >= ${from}::date
          group by 1, 2, 3, 4, 5
        ),
        purchases as (
          select slug, phase, variant, subject, exposed_day, day, value
          from subject_days where event = 'purchase'
        ),
        revenue as (
          select day, slug, phase, variant, sum(value) as revenue, sum(value * (2 * so_far - value)) as squares
          from (
            select *, sum(value) over (partition by slug, phase, subject order by day) as so_far from purchases
          ) running
          where day >= ${from}::date
          group by 1, 2, 3, 4
        ),
        exposed_purchases as (
          select greatest(day, exposed_day) as day, slug, phase, variant, subject, sum(value) as value
          from purchases where exposed_day is not null
          group by 1, 2, 3, 4, 5
        ),
        exposed_revenue as (
          select day, slug, phase, variant, sum(value) as revenue, sum(value * (2 * so_far - value)) as squares
          from (
            select *, sum(value) over (partition by slug, phase, subject order by day) as so_far
            from exposed_purchases
          ) running
          where day >= ${from}::date
          group by 1, 2, 3, 4
        ),
        -- CUPED's covariate, as the raw pass defines it: each exposed subject's purchases in the 30
        -- days before exposure, whatever experiment they were credited to. Every id a purchase names
        -- is a candidate subject, so subjects join on (scope, id) by hash.
        purchase_history as (
          select k.scope, k.subject, p."occurredAt", ${numericValueSql("p")} as value
          from "Event" p
          cross join lateral (values ('user', p."userId"), ('team', p."teamId"), ('visitor', p."visitorId")) k(scope, subject)
          where p."name" = 'purchase' and k.subject is not null
            and p."occurredAt" >= (select min(exposed_at) from ledger) - interval '30 days'
        ),
        covariates as (
          select l.slug, l."phase", l."variant", l.subject, l.exposed_day, sum(h.value) as x
          from ledger l
          join purchase_history h on h.scope = l.scope and h.subject = l.subject
            and h."occurredAt" < l.exposed_at and h."occurredAt" >= l.exposed_at - interval '30 days'
          where l.exposed_at is not null ${onlyTouched("l")}
          group by 1, 2, 3, 4, 5
        ),
        -- Σx, Σx² and subjects with a history land on the day of exposure; Σx·y on the days exposed
        -- revenue y grows, x times that day's part of it: summed over days, x times the subject's total.
        covariate_days as (
          select exposed_day as day, slug, phase, variant, sum(x) as sum_x, sum(x * x) as sum_xx,
            count(*) filter (where x <> 0)::int as with_history
          from covariates
          where exposed_day >= ${from}::date
          group by 1, 2, 3, 4
        ),
        covariate_cross as (
          select x.day, x.slug, x.phase, x.variant, sum(x.value * c.x) as sum_xy
          from exposed_purchases x join covariates c on c.slug = x.slug and c.phase = x.phase and c.subject = x.subject
          where x.day >= ${from}::date
          group by 1, 2, 3, 4
        ),
        per_variant as (
          select p.day, p.slug, p.phase, p.variant,
            jsonb_object_agg(
              p.event,
              jsonb_build_object('count', p.n, 'converters', p.converters, 'exposedConverters', p.exposed_converters)
                || case when p.event = 'purchase' then jsonb_build_object(
                     'exposedRevenue', coalesce(x.revenue, 0), 'exposedRevenueSquares', coalesce(x.squares, 0))
                   else '{}'::jsonb end
            ) as conversions,
            max(p.currency) as currency
          from per_event p
          -- Every exposed purchase day is a day the purchase entry exists: a purchase that day, or
          -- the exposure day, when the subject becomes an exposed purchaser.
          left join exposed_revenue x on p.event = 'purchase'
            and x.day = p.day and x.slug = p.slug and x.phase = p.phase and x.variant = p.variant
          group by 1, 2, 3, 4
        ),
        days as (
          select day, slug, phase, variant from exposures
          union select day, slug, phase, variant from assigned
          union select day, slug, phase, variant from per_variant
        )
        insert into "experiment_rollups_daily"
          ("day", "experimentSlug", "phase", "variant", "assignments", "exposures", "conversions", "revenue",
           "revenueSquares", "currency", "covariateSum", "covariateSquares", "covariateCross", "withHistory",
           "updatedAt")
        select d.day, d.slug, d.phase, d.variant, coalesce(a.n, 0), coalesce(e.n, 0),
          coalesce(v.conversions, '{}'::jsonb), coalesce(r.revenue, 0), coalesce(r.squares, 0), v.currency,
          coalesce(cd.sum_x, 0), coalesce(cd.sum_xx, 0), coalesce(cc.sum_xy, 0), coalesce(cd.with_history, 0), now()
        from days d
        left join assigned a using (day, slug, phase, variant)
        left join exposures e using (day, slug, phase, variant)
        left join per_variant v using (day, slug, phase, variant)
        left join revenue r using (day, slug, phase, variant)
        left join covariate_days cd using (day, slug, phase, variant)
        left join covariate_cross cc using (day, slug, phase, variant)`;
      await recountFlags(tx, only);
      await recordRefresh(tx, only, from);
      return written;
    },
    // A refresh of recent days takes seconds; a full rebuild reads every event ever stored (about
    // 45-110 s for 5M on two cores), so it gets far longer before Prisma gives up on it.
    { timeout: partial ? RECENT_REFRESH_TIMEOUT_MS : FULL_REBUILD_TIMEOUT_MS },
  );
}

/**
 * The rollups' advisory lock, for this transaction: taken at once or not at all, or, with `wait`,
 * once the refresh holding it commits.
 */
export async function takeRollupLock(tx: Prisma.TransactionClient, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx.$queryRaw`select pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})::text`;
    return true;
  }
  const [lock] = await tx.$queryRaw<
    { locked: boolean }[]
  >`select pg_try_advisory_xact_lock(${ROLLUP_LOCK_KEY}) as locked`;
  return lock?.locked === true;
}

/**
 * Stamps the experiments this refresh covered with its transaction's start: every event committed
 * before then is in their rows (later ones may be too). Committed with the rows, so the stamp never
 * runs ahead of them. When it rewrote every row of an experiment (a full refresh, or none older than
 * `from`), it stamps `rebuiltAt` too: from then on every row holds CUPED's sums, which rows written
 * before those sums existed hold as zeros.
 */
async function recordRefresh(tx: Prisma.TransactionClient, only: string | null, from: Date): Promise<void> {
  await tx.$executeRaw`
    insert into "experiment_rollup_refreshes" ("experimentSlug", "refreshedAt", "rebuiltAt")
    select f."slug", now(),
      case when not exists (
        select 1 from "experiment_rollups_daily" r where r."experimentSlug" = f."slug" and r."day" < ${from}::date
      ) then now() end
    from "Feature" f
    where f."type" = 'EXPERIMENT' and (${only}::text is null or f."slug" = ${only})
    on conflict ("experimentSlug") do update set "refreshedAt" = excluded."refreshedAt",
      "rebuiltAt" = coalesce(excluded."rebuiltAt", "experiment_rollup_refreshes"."rebuiltAt")`;
}

/**
 * Flagged subjects per day assigned, over every day: an old assignment can be flagged today. Only
 * rows whose count changed are written; a day with flags but no row yet gets one.
 */
async function recountFlags(tx: Prisma.TransactionClient, only: string | null): Promise<void> {
  await tx.$executeRaw`
    with flags as (
      select "assignedAt"::date as day, "experimentSlug" as slug, "phase", "variant", count(*)::int as n
      from "ExperimentVariant"
      where "metadata"->>'seenInOtherVariant' is not null
        and (${only}::text is null or "experimentSlug" = ${only})
      group by 1, 2, 3, 4
    )
    insert into "experiment_rollups_daily" ("day", "experimentSlug", "phase", "variant", "conversions", "updatedAt")
    select day, slug, phase, variant, jsonb_build_object(${FLAGGED_KEY}::text, n), now() from flags
    on conflict ("day", "experimentSlug", "phase", "variant") do update
      set "conversions" = "experiment_rollups_daily"."conversions" || excluded."conversions", "updatedAt" = now()
      where "experiment_rollups_daily"."conversions"->${FLAGGED_KEY}::text
        is distinct from excluded."conversions"->${FLAGGED_KEY}::text`;
  await tx.$executeRaw`
    update "experiment_rollups_daily" r
    set "conversions" = r."conversions" - ${FLAGGED_KEY}::text, "updatedAt" = now()
    where r."conversions"->${FLAGGED_KEY}::text is not null
      and (${only}::text is null or r."experimentSlug" = ${only})
      and not exists (
        -- A range on assignedAt, not a cast, so the (experimentSlug, assignedAt) index reads one day.
        select 1 from "ExperimentVariant" a
        where a."experimentSlug" = r."experimentSlug" and a."assignedAt" >= r."day" and a."assignedAt" < r."day" + 1
          and a."phase" = r."phase" and a."variant" = r."variant"
          and a."metadata"->>'seenInOtherVariant' is not null
      )`;
}
