import type { ExperimentScope } from "@/features/experiments/core/config";
import { CONVERSION_EVENT } from "@/features/experiments/core/events";
import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import { Prisma, type PrismaClient } from "@/generated/prisma/client";
import { FLAGGED_KEY, numericValueSql } from "@/server/events/rollups";
import { subjectColumn } from "./subjects";

/** The client or a transaction. */
type QueryClient = Pick<PrismaClient, "$queryRaw" | "experimentVariant" | "experimentRollupRefresh">;

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

/** What one pass over the event store should count, besides assignments and exposures. */
export type SubjectPlan = {
  /** Conversion events to count converters of. */
  events: string[];
  /** The charted event: each subject's first conversion on it is kept by day. */
  seriesEvent: string | null;
  /** Whether to read pre-exposure purchases, CUPED's covariate. */
  history: boolean;
};

/**
 * Subjects of one variant who share the day they were first exposed and the day of their first
 * conversion on the charted event, with their sums. Both populations, the exposure-based
 * analysis's chart and the assigned one's, are sums over these.
 */
export type SubjectGroup = {
  variant: string;
  /** YYYY-MM-DD, null for subjects never exposed. */
  exposedDay: string | null;
  /** YYYY-MM-DD of the first conversion on the charted event, null without one. */
  convertedDay: string | null;
  subjects: number;
  flagged: number;
  /** Converters per event, in SubjectPlan.events' order. */
  converters: number[];
  /** Per subject: their purchase conversions' value, summed; then over subjects, and squared. */
  revenue: number;
  revenueSquares: number;
  /** CUPED: purchases in the 30 days before exposure (x), against revenue (y). */
  sumX: number;
  sumXX: number;
  sumXY: number;
  withHistory: number;
};

/** One row of `experiment_rollups_daily`, as the results read it. */
export type RollupRow = {
  day: string;
  variant: string;
  assignments: number;
  exposures: number;
  /** Per conversion event its figures, and FLAGGED_KEY's count. */
  conversions: Record<string, unknown>;
  revenue: number;
  revenueSquares: number;
  /** CUPED's sums, by the days they land on (see the table's schema). */
  covariateSum: number;
  covariateSquares: number;
  covariateCross: number;
  withHistory: number;
};

/** When an experiment's rollups were last refreshed, and last rewritten whole (CUPED's sums). */
export type RollupRefresh = { refreshedAt: Date; rebuiltAt: Date | null };

/**
 * One of `of` disjoint parts of a test's subjects, by a hash of their id: the parts of one pass
 * run at once on separate connections (cores), each grouping only its own subjects, so their
 * groups add up to the whole pass's.
 */
export type SubjectPart = { index: number; of: number };
export const WHOLE: SubjectPart = { index: 0, of: 1 };

/** Bits per converter mask: a bigint, kept positive. */
const MASK_BITS = 62;

export class ResultsQueries {
  constructor(private readonly db: QueryClient) {}

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
   * Every figure of the event-store results in one statement: the phase's assignment ledger and
   * its conversion events (and, for CUPED, purchases) are appended and grouped by subject once, a
   * single aggregation instead of a join of the events to the ledger, then folded into a few
   * thousand rows by variant and day.
   */
  async subjectGroups(scope: ResultsScope, plan: SubjectPlan, part = WHOLE): Promise<SubjectGroup[]> {
    return this.db.$queryRaw<SubjectGroup[]>(subjectGroupsSql(scope, plan, part));
  }

  /** When the experiment's rollups were last refreshed and rebuilt (null: never refreshed). */
  rollupRefresh(slug: string): Promise<RollupRefresh | null> {
    return this.db.experimentRollupRefresh.findUnique({
      where: { experimentSlug: slug },
      select: { refreshedAt: true, rebuiltAt: true },
    });
  }

  /**
   * The phase's daily rollup rows, and whether any of them predates the per-exposure figures (rows
   * an older version wrote count converters whether or not they were exposed).
   */
  async rollups(slug: string, phase: number): Promise<{ rows: RollupRow[]; current: boolean }> {
    const rows = await this.db.$queryRaw<RollupRow[]>`
      select to_char("day", 'YYYY-MM-DD') as "day", "variant", "assignments", "exposures", "conversions",
        "revenue", "revenueSquares", "covariateSum", "covariateSquares", "covariateCross", "withHistory"
      from "experiment_rollups_daily"
      where "experimentSlug" = ${slug} and "phase" = ${phase}`;
    const current = rows.every((row) =>
      Object.entries(row.conversions).every(
        ([event, figures]) => event === FLAGGED_KEY || hasKey(figures, "exposedConverters"),
      ),
    );
    return { rows, current };
  }
}

/** The statement behind {@link ResultsQueries.subjectGroups} (exported to EXPLAIN it). */
export function subjectGroupsSql(scope: ResultsScope, plan: SubjectPlan, part = WHOLE): Prisma.Sql {
  const { slug, phase } = scope;
  const column = Prisma.raw(`"${subjectColumn(scope.scope)}"`);
  // hashtext is PostgreSQL's own (PGlite's too), cheap, and spreads ids evenly over the parts.
  const inPart = (id: Prisma.Sql) =>
    part.of === 1
      ? Prisma.empty
      : Prisma.sql`and (hashtext(${id}) & 2147483647) % ${part.of}::int = ${part.index}::int`;
  const events = [...new Set(plan.events)];
  const chunks = Array.from({ length: Math.max(1, Math.ceil(events.length / MASK_BITS)) }, (_, chunk) =>
    events.slice(chunk * MASK_BITS, (chunk + 1) * MASK_BITS),
  );
  const mask = (chunk: number) => Prisma.raw(`mask${chunk}`);
  const masks = Prisma.join(chunks.map((_, chunk) => mask(chunk)));
  const noBits = Prisma.join(chunks.map((_, chunk) => Prisma.sql`null::bigint as ${mask(chunk)}`));
  // Bit i of mask c: a conversion on events[c * MASK_BITS + i]; null for the events not asked about.
  const eventBits = Prisma.join(
    chunks.map(
      (names, chunk) =>
        Prisma.sql`(1::bigint << (array_position(${names}::text[], e."event") - 1)) as ${mask(chunk)}`,
    ),
  );
  const converters = Prisma.join(
    chunks.flatMap((names, chunk) =>
      names.map((_, bit) => Prisma.sql`coalesce(sum((${mask(chunk)} >> ${bit}) & 1), 0)::int`),
    ),
  );
  // CUPED's covariate: each exposed subject's purchases in the 30 days before exposure, few enough
  // to look up their ledger rows one by one. An exposure is stamped after its assignment, so none
  // before the phase's first assignment (less a day, for instances whose clocks disagree) counts:
  // the index on (name, occurredAt) reads only those.
  const history = plan.history
    ? Prisma.sql`
      union all
      select h."subject", null, null, null, ${noBits}, null, null, h."x"
      from (
        select p.${column} as "subject", sum(${numericValueSql("p")}) as "x"
        from "Event" p
        join "ExperimentVariant" l
          on l."experimentSlug" = ${slug} and l."phase" = ${phase} and l.${column} = p.${column}
        where p."name" = ${PURCHASE_EVENT}
          and p."occurredAt" >= (
            select min(f."assignedAt") from "ExperimentVariant" f
            where f."experimentSlug" = ${slug} and f."phase" = ${phase}
          ) - interval '31 days'
          and p."occurredAt" < l."firstExposedAt" and p."occurredAt" >= l."firstExposedAt" - interval '30 days'
          ${inPart(Prisma.sql`p.${column}`)}
        group by 1
      ) h`
    : Prisma.empty;
  return Prisma.sql`
    with entries as (
      select a.${column} as "subject", a."variant", a."firstExposedAt"::date as exposed_day,
        a."metadata"->>'seenInOtherVariant' is not null as flagged, ${noBits},
        null::date as series_day, null::float8 as value, null::float8 as x
      from "ExperimentVariant" a
      where a."experimentSlug" = ${slug} and a."phase" = ${phase} and a.${column} is not null
        ${inPart(Prisma.sql`a.${column}`)}
      union all
      select e."subject", null, null, null, ${eventBits},
        case when e."event" = ${plan.seriesEvent}::text then e."occurredAt"::date end,
        case when e."event" = ${PURCHASE_EVENT} then ${numericValueSql("e")} end, null
      from (
        -- OFFSET 0 keeps the subquery whole, so each event's name is read out of its JSON once.
        select ${column} as "subject", "occurredAt", "properties", "properties"->>'conversion_event' as "event"
        from "Event"
        where "experimentSlug" = ${slug} and "name" = ${CONVERSION_EVENT} and ${column} is not null
          -- Not coalesce(phase, 1): the planner estimates this form from the column's statistics.
          and ("phase" = ${phase} or ("phase" is null and ${phase}::int = 1))
          ${inPart(column)}
        offset 0
      ) e
      where e."event" is not null
      ${history}
    ),
    -- Few aggregates on purpose: the grouping of a million subjects is bound by memory, and
    -- every aggregate widens each subject's entry.
    subjects as (
      select max("variant") as variant, min(exposed_day) as exposed_day, bool_or(flagged) as flagged,
        ${Prisma.join(chunks.map((_, chunk) => Prisma.sql`bit_or(${mask(chunk)}) as ${mask(chunk)}`))},
        min(series_day) as series_day, sum(value) as revenue, coalesce(sum(x), 0) as x
      from entries
      group by "subject"
    ),
    scored as (
      select variant, exposed_day, flagged, ${masks}, series_day, revenue, x
      from subjects
      -- Subjects outside the ledger are not in the test, whatever their events say.
      where variant is not null
      union all
      -- A ledger row without the scope's id has no events; it still counts as assigned.
      select a."variant", a."firstExposedAt"::date, a."metadata"->>'seenInOtherVariant' is not null,
        ${noBits}, null, null, 0
      from "ExperimentVariant" a
      where a."experimentSlug" = ${slug} and a."phase" = ${phase} and a.${column} is null
        and ${part.index}::int = 0
    )
    select variant, to_char(exposed_day, 'YYYY-MM-DD') as "exposedDay",
      to_char(series_day, 'YYYY-MM-DD') as "convertedDay",
      subjects, flagged, converters, revenue, "revenueSquares", "sumX", "sumXX", "sumXY", "withHistory"
    from (
      select variant, exposed_day, series_day,
        count(*)::int as subjects, count(*) filter (where flagged)::int as flagged,
        array[${converters}]::int[] as converters,
        coalesce(sum(revenue), 0)::float8 as revenue, coalesce(sum(revenue * revenue), 0)::float8 as "revenueSquares",
        sum(x)::float8 as "sumX", sum(x * x)::float8 as "sumXX", sum(x * coalesce(revenue, 0))::float8 as "sumXY",
        count(*) filter (where x <> 0)::int as "withHistory"
      from scored
      group by variant, exposed_day, series_day
    ) groups`;
}

function hasKey(value: unknown, key: string): boolean {
  return typeof value === "object" && value !== null && key in value;
}
