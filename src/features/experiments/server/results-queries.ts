import type { ExperimentScope } from "@/features/experiments/core/config";
import { CONVERSION_EVENT } from "@/features/experiments/core/events";
import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import type { CovariateSums, RevenueAggregate } from "@/features/experiments/core/results";
import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { FLAGGED_KEY } from "@/server/events/rollups";

/** The client or a transaction: the service reads every figure from one snapshot. */
type QueryClient = Pick<PrismaClient, "$queryRaw" | "experimentVariant">;

import { subjectColumn } from "./subjects";

/**
 * The SQL behind the results page. Every count is per subject (an assignment row), so repeated
 * events never inflate a rate, and conversions are credited to the variant the subject was
 * assigned, whatever an event claimed.
 */

export type ResultsScope = {
  slug: string;
  phase: number;
  scope: ExperimentScope;
  /** Exposure-based analysis: only subjects with a recorded exposure count. */
  exposedOnly: boolean;
};

export type AssignmentCounts = { variant: string; assigned: number; exposed: number; flagged: number };
export type RollupTotals = {
  variant: string;
  assigned: number;
  exposed: number;
  flagged: number;
  /** Every assigned subject's purchases. */
  revenue: number;
  revenueSquares: number;
  /** Exposed subjects' purchases only. */
  exposedRevenue: number;
  exposedRevenueSquares: number;
};
export type RollupConverters = {
  variant: string;
  event: string;
  converters: number;
  exposedConverters: number;
};
export type DailyPoint = { day: string; variant: string; exposures: number; converters: number };

// A numeric `value` property, whether sent as a JSON number or a decimal string (Shopify sends
// prices as strings); anything else counts as zero revenue.
const VALUE_SQL = Prisma.sql`case
  when jsonb_typeof(e."properties"->'value') = 'number' then (e."properties"->>'value')::float8
  when (e."properties"->>'value') ~ '^-?[0-9]+(\\.[0-9]+)?$' then (e."properties"->>'value')::float8
  else 0 end`;

export class ResultsQueries {
  constructor(private readonly db: QueryClient) {}

  async assignments(slug: string, phase: number): Promise<AssignmentCounts[]> {
    return this.db.$queryRaw<AssignmentCounts[]>`
      select "variant",
        count(*)::int as "assigned",
        count("firstExposedAt")::int as "exposed",
        count(*) filter (where "metadata"->>'seenInOtherVariant' is not null)::int as "flagged"
      from "ExperimentVariant"
      where "experimentSlug" = ${slug} and "phase" = ${phase}
      group by "variant"`;
  }

  /** When the phase's first subject was assigned: the start of its data. */
  async firstAssignedAt(slug: string, phase: number): Promise<Date | null> {
    const first = await this.db.experimentVariant.findFirst({
      where: { experimentSlug: slug, phase },
      orderBy: { assignedAt: "asc" },
      select: { assignedAt: true },
    });
    return first?.assignedAt ?? null;
  }

  /**
   * The phase's conversion events reduced to one row per subject and event first, then joined to
   * the assignment ledger on its unique (slug, phase, subject) index: a hash join whatever the
   * planner knows about the tables, never a scan of events per subject.
   */
  private perSubject(scope: ResultsScope, event: string | null): Prisma.Sql {
    const column = Prisma.raw(`"${subjectColumn(scope.scope)}"`);
    return Prisma.sql`
      select e.${column} as "subject", e."properties"->>'conversion_event' as "event", sum(${VALUE_SQL}) as "value"
      from "Event" e
      where e."experimentSlug" = ${scope.slug} and e."name" = ${CONVERSION_EVENT}
        and coalesce(e."phase", 1) = ${scope.phase} and e.${column} is not null
        ${event === null ? Prisma.empty : Prisma.sql`and e."properties"->>'conversion_event' = ${event}`}
      group by 1, 2`;
  }

  private ledger(scope: ResultsScope): Prisma.Sql {
    const column = Prisma.raw(`"${subjectColumn(scope.scope)}"`);
    return Prisma.sql`
      select a."id", a."variant", a.${column} as "subject", a."firstExposedAt"
      from "ExperimentVariant" a
      where a."experimentSlug" = ${scope.slug} and a."phase" = ${scope.phase}
        and (${!scope.exposedOnly} or a."firstExposedAt" is not null)`;
  }

  /** Unique converters per variant and conversion event. */
  async converters(scope: ResultsScope): Promise<{ variant: string; event: string; converters: number }[]> {
    return this.db.$queryRaw`
      with conversions as (${this.perSubject(scope, null)}), ledger as (${this.ledger(scope)})
      select l."variant", c."event", count(*)::int as "converters"
      from conversions c join ledger l on l."subject" = c."subject"
      where c."event" is not null
      group by 1, 2`;
  }

  /** Revenue per variant as sums over subjects (for the mean and variance per participant). */
  async revenue(scope: ResultsScope): Promise<(RevenueAggregate & { variant: string })[]> {
    return this.db.$queryRaw`
      with purchases as (${this.perSubject(scope, PURCHASE_EVENT)}), ledger as (${this.ledger(scope)})
      select l."variant", coalesce(sum(p."value"), 0)::float8 as "sum",
        coalesce(sum(p."value" * p."value"), 0)::float8 as "sumSquares", count(*)::int as "purchasers"
      from purchases p join ledger l on l."subject" = p."subject"
      group by 1`;
  }

  /**
   * Revenue per exposed subject after exposure (y) beside their purchases in the 30 days before
   * it (x, the CUPED covariate), as sums per variant. Pre-exposure purchases are the plain
   * `purchase` events the order webhook writes, whatever experiment they were attributed to.
   */
  async revenueWithCovariate(scope: ResultsScope): Promise<(CovariateSums & { variant: string })[]> {
    const column = Prisma.raw(`"${subjectColumn(scope.scope)}"`);
    const exposed = { ...scope, exposedOnly: true };
    return this.db.$queryRaw`
      with ledger as (${this.ledger(exposed)}),
      after as (${this.perSubject(scope, PURCHASE_EVENT)}),
      before as (
        select l."id", sum(${VALUE_SQL}) as "value"
        from ledger l join "Event" e on e.${column} = l."subject"
        where e."name" = ${PURCHASE_EVENT}
          and e."occurredAt" < l."firstExposedAt"
          and e."occurredAt" >= l."firstExposedAt" - interval '30 days'
        group by 1
      ),
      per_subject as (
        select l."variant", coalesce(b."value", 0) as "x", coalesce(p."value", 0) as "y"
        from ledger l
        left join before b on b."id" = l."id"
        left join after p on p."subject" = l."subject"
      )
      select "variant", count(*)::int as "n",
        sum("x")::float8 as "sumX", sum("x" * "x")::float8 as "sumXX",
        sum("y")::float8 as "sumY", sum("y" * "y")::float8 as "sumYY", sum("x" * "y")::float8 as "sumXY",
        count(*) filter (where "x" <> 0)::int as "withHistory"
      from per_subject
      group by 1`;
  }

  /**
   * Per variant totals over the phase's daily rollups: participants, exposures, flagged subjects
   * and revenue, for all assigned subjects and for the exposed ones.
   */
  async rollupTotals(slug: string, phase: number): Promise<RollupTotals[]> {
    return this.db.$queryRaw`
      select "variant", coalesce(sum("assignments"), 0)::int as "assigned", coalesce(sum("exposures"), 0)::int as "exposed",
        coalesce(sum(("conversions"->>${FLAGGED_KEY}::text)::int), 0)::int as "flagged",
        coalesce(sum("revenue"), 0)::float8 as "revenue", coalesce(sum("revenueSquares"), 0)::float8 as "revenueSquares",
        coalesce(sum(("conversions"->'purchase'->>'exposedRevenue')::float8), 0)::float8 as "exposedRevenue",
        coalesce(sum(("conversions"->'purchase'->>'exposedRevenueSquares')::float8), 0)::float8 as "exposedRevenueSquares"
      from "experiment_rollups_daily"
      where "experimentSlug" = ${slug} and "phase" = ${phase}
      group by 1`;
  }

  /** Large tests: unique converters per event from the daily rollups, all assigned and exposed only. */
  async convertersFromRollups(slug: string, phase: number): Promise<RollupConverters[]> {
    return this.db.$queryRaw`
      select r."variant", c.key as "event", sum((c.value->>'converters')::int)::int as "converters",
        coalesce(sum((c.value->>'exposedConverters')::int), 0)::int as "exposedConverters"
      from "experiment_rollups_daily" r, jsonb_each(r."conversions") c
      where r."experimentSlug" = ${slug} and r."phase" = ${phase} and c.key <> ${FLAGGED_KEY}::text
      group by 1, 2`;
  }

  /**
   * Whether every rollup row of the experiment has the per-exposure figures: rows an older
   * version wrote count converters whether or not they were exposed.
   */
  async rollupsCurrent(slug: string): Promise<boolean> {
    const [row] = await this.db.$queryRaw<{ stale: boolean }[]>`
      select exists (
        select 1 from "experiment_rollups_daily" r, jsonb_each(r."conversions") c
        where r."experimentSlug" = ${slug} and c.key <> ${FLAGGED_KEY}::text
          and c.value->'exposedConverters' is null
      ) as "stale"`;
    return !row?.stale;
  }

  /**
   * Exposures and new converters of one event per day and variant, from the rollups; exposed
   * converters for the exposure-based analysis, so the last cumulative point is the table's rate.
   */
  async daily(scope: ResultsScope, event: string | null): Promise<DailyPoint[]> {
    const figure = scope.exposedOnly ? "exposedConverters" : "converters";
    return this.db.$queryRaw`
      select to_char(r."day", 'YYYY-MM-DD') as "day", r."variant", r."exposures"::int as "exposures",
        coalesce((r."conversions"->${event ?? ""}::text->>${figure}::text)::int, 0) as "converters"
      from "experiment_rollups_daily" r
      where r."experimentSlug" = ${scope.slug} and r."phase" = ${scope.phase}
      order by r."day", r."variant"`;
  }
}
