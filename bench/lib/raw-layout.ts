// The raw pass on the fastest layout PostgreSQL's row store offers the results, set up on the
// benchmark's data set for the measurement and removed afterwards: what the raw target would need
// of the event store, measured rather than argued.
//
// The layout: every conversion event and ledger row also in an index sorted by subject, holding
// every figure the pass reads (an index-only scan reads nothing else), with the subject as a 64-bit
// hash (integer comparisons) and the event's name and value out of its JSON (generated columns).
// The pass merges the two sorted streams, so no subject is ever hashed, and runs as two halves of
// the key space at once, one per core. It must give the product's raw pass's figures: the caller
// compares them.
import pg from "pg";
import type { ResultsScope, SubjectGroup, SubjectPlan } from "@/features/experiments/server/results-queries";
import { withPgClient } from "@/server/db/pg-client";
import { numericValueSql } from "@/server/events/rollups";

const CONVERSION = "experiment_conversion";
const PURCHASE = "purchase";
const MASK_BITS = 62;

const CLEANUP = [
  `DROP INDEX IF EXISTS "bench_layout_conversions"`,
  `DROP INDEX IF EXISTS "bench_layout_purchases"`,
  `DROP INDEX IF EXISTS "bench_layout_ledger"`,
  `ALTER TABLE "Event" DROP COLUMN IF EXISTS "benchKey", DROP COLUMN IF EXISTS "benchConversion", DROP COLUMN IF EXISTS "benchValue"`,
  `ALTER TABLE "ExperimentVariant" DROP COLUMN IF EXISTS "benchKey", DROP COLUMN IF EXISTS "benchFlagged"`,
];

function setupStatements(): string[] {
  const value = numericValueSql(`"Event"`);
  if (value.values.length > 0) throw new Error("numericValueSql is expected to take no parameters");
  return [
    `ALTER TABLE "Event"
      ADD COLUMN "benchKey" bigint GENERATED ALWAYS AS (hashtextextended("visitorId", 0)) STORED,
      ADD COLUMN "benchConversion" text GENERATED ALWAYS AS
        (CASE WHEN "name" = '${CONVERSION}' THEN "properties"->>'conversion_event' END) STORED,
      ADD COLUMN "benchValue" float8 GENERATED ALWAYS AS (${value.sql}) STORED`,
    `ALTER TABLE "ExperimentVariant"
      ADD COLUMN "benchKey" bigint GENERATED ALWAYS AS (hashtextextended("visitorId", 0)) STORED,
      ADD COLUMN "benchFlagged" boolean GENERATED ALWAYS AS (("metadata"->>'seenInOtherVariant') IS NOT NULL) STORED`,
    `CREATE INDEX "bench_layout_conversions" ON "Event"
      ("experimentSlug", "benchKey", "phase", "benchConversion", "occurredAt", "benchValue")
      WHERE "name" = '${CONVERSION}' AND "visitorId" IS NOT NULL`,
    `CREATE INDEX "bench_layout_purchases" ON "Event" ("benchKey", "occurredAt", "benchValue")
      WHERE "name" = '${PURCHASE}' AND "visitorId" IS NOT NULL`,
    `CREATE INDEX "bench_layout_ledger" ON "ExperimentVariant"
      ("experimentSlug", "phase", "benchKey", "variant", "firstExposedAt", "benchFlagged")
      WHERE "visitorId" IS NOT NULL`,
    `VACUUM ANALYZE "Event"`,
    `VACUUM ANALYZE "ExperimentVariant"`,
  ];
}

/** A condition on a subject key column: which subjects a pass covers. */
type KeyRange = (column: string) => string;

/** The pass over the subjects whose key is `within` the range. */
function layoutSql(scope: ResultsScope, plan: SubjectPlan, within: KeyRange, client: pg.Client): string {
  const literal = (text: string) => client.escapeLiteral(text);
  const events = [...new Set(plan.events)];
  if (events.length > MASK_BITS) throw new Error(`at most ${MASK_BITS} events`);
  const names = `array[${events.map(literal).join(", ")}]::text[]`;
  const slug = literal(scope.slug);
  const phase = Number(scope.phase);
  const converters = events
    .map((_, bit) => `count(*) filter (where c.mask & ${2 ** bit} <> 0)::int`)
    .join(", ");
  const series =
    plan.seriesEvent === null
      ? "null::date"
      : `min(e."occurredAt"::date) filter (where e."benchConversion" = ${literal(plan.seriesEvent)})`;
  const history = plan.history
    ? `left join (
        select l."benchKey" as key, sum(p."benchValue") as x
        from "ExperimentVariant" l
        join "Event" p on p."benchKey" = l."benchKey" and p."name" = '${PURCHASE}' and p."visitorId" is not null
        where l."experimentSlug" = ${slug} and l."phase" = ${phase} and l."visitorId" is not null
          and ${within(`l."benchKey"`)} and ${within(`p."benchKey"`)}
          and p."occurredAt" < l."firstExposedAt" and p."occurredAt" >= l."firstExposedAt" - interval '30 days'
        group by 1
      ) h on h.key = l."benchKey"`
    : `left join (select null::bigint as key, null::float8 as x) h on false`;
  // Grouped by the days as dates, formatted after: a grouping by the formatted text would sort.
  return `
    select variant, to_char(exposed_day, 'YYYY-MM-DD') as "exposedDay", to_char(series_day, 'YYYY-MM-DD') as "convertedDay",
      subjects, flagged, converters, revenue, "revenueSquares", "sumX", "sumXX", "sumXY", "withHistory"
    from (
    select l."variant" as variant, l."firstExposedAt"::date as exposed_day, c.series_day,
      count(*)::int as subjects, count(*) filter (where l."benchFlagged")::int as flagged,
      array[${converters}]::int[] as converters,
      coalesce(sum(c.revenue), 0)::float8 as revenue, coalesce(sum(c.revenue * c.revenue), 0)::float8 as "revenueSquares",
      coalesce(sum(h.x), 0)::float8 as "sumX", coalesce(sum(h.x * h.x), 0)::float8 as "sumXX",
      coalesce(sum(h.x * coalesce(c.revenue, 0)), 0)::float8 as "sumXY",
      count(*) filter (where h.x <> 0)::int as "withHistory"
    from "ExperimentVariant" l
    left join (
      select e."benchKey" as key,
        bit_or(1::bigint << (array_position(${names}, e."benchConversion") - 1)) as mask,
        ${series} as series_day,
        sum(e."benchValue") filter (where e."benchConversion" = '${PURCHASE}') as revenue
      from "Event" e
      where e."experimentSlug" = ${slug} and e."name" = '${CONVERSION}' and e."visitorId" is not null
        and (e."phase" = ${phase} or (e."phase" is null and ${phase} = 1)) and ${within(`e."benchKey"`)}
      group by 1
    ) c on c.key = l."benchKey"
    ${history}
    where l."experimentSlug" = ${slug} and l."phase" = ${phase} and l."visitorId" is not null and ${within(`l."benchKey"`)}
    group by 1, 2, 3
    ) groups`;
}

const EVERY_KEY: KeyRange = () => "true";
/** Halves of the key space: the hash spreads subjects evenly over it. */
const LOWER_HALF: KeyRange = (column) => `${column} < 0`;
const UPPER_HALF: KeyRange = (column) => `${column} >= 0`;

export type LayoutMeasurement = {
  setupSeconds: number;
  /** The whole pass as one statement, on one core. */
  single: { median: number; best: number };
  /** Its two halves at once, on two connections. */
  halves: { median: number; best: number };
  /** The halves' groups, added up: to compare with the product's raw pass. */
  groups: SubjectGroup[];
};

/**
 * One connection's settings for the pass: no JIT compilation or parallel workers of its own, and
 * merge joins, as every side arrives sorted by subject (a hash join would rehash the ledger).
 */
async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `set jit = off; set max_parallel_workers_per_gather = 0; set work_mem = '16MB'; set enable_hashjoin = off`,
  );
  return client;
}

function median(samples: number[]): { median: number; best: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, best: sorted[0] ?? 0 };
}

/** What identifies a group: its variant and days. */
export const groupKey = (group: SubjectGroup) => `${group.variant}|${group.exposedDay}|${group.convertedDay}`;

/** Adds up groups that share variant and days (the halves hold different subjects of each). */
export function addGroups(parts: SubjectGroup[][]): SubjectGroup[] {
  const byKey = new Map<string, SubjectGroup>();
  for (const group of parts.flat()) {
    const key = groupKey(group);
    const sum = byKey.get(key);
    if (!sum) {
      byKey.set(key, { ...group, converters: [...group.converters] });
      continue;
    }
    for (const field of [
      "subjects",
      "flagged",
      "revenue",
      "revenueSquares",
      "sumX",
      "sumXX",
      "sumXY",
      "withHistory",
    ] as const)
      sum[field] += group[field];
    sum.converters = sum.converters.map((count, index) => count + (group.converters[index] ?? 0));
  }
  return [...byKey.values()];
}

/** Sets the layout up, times the pass `runs` times each way after a warm-up, and removes it. */
export async function measureLayout(
  url: string,
  scope: ResultsScope,
  plan: SubjectPlan,
  runs: number,
): Promise<LayoutMeasurement> {
  if (scope.scope !== "visitor") throw new Error("the layout is built for a visitor-scoped test");
  const setupStart = Date.now();
  await withPgClient(url, async (client) => {
    for (const statement of [...CLEANUP, ...setupStatements()]) await client.query(statement);
  });
  const setupSeconds = (Date.now() - setupStart) / 1000;
  const clients = [await connect(url), await connect(url)];
  try {
    const [first, second] = clients as [pg.Client, pg.Client];
    const pass = async (client: pg.Client, within: KeyRange) =>
      (await client.query<SubjectGroup>(layoutSql(scope, plan, within, client))).rows;
    const timed = async <T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> => {
      const start = process.hrtime.bigint();
      const result = await work();
      return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
    };
    const single: number[] = [];
    const halves: number[] = [];
    let groups: SubjectGroup[] = [];
    for (let run = 0; run <= runs; run += 1) {
      const whole = await timed(() => pass(first, EVERY_KEY));
      const split = await timed(() => Promise.all([pass(first, LOWER_HALF), pass(second, UPPER_HALF)]));
      groups = addGroups(split.result);
      // Run 0 warms the caches up.
      if (run === 0) continue;
      single.push(whole.ms);
      halves.push(split.ms);
    }
    return { setupSeconds, single: median(single), halves: median(halves), groups };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    await withPgClient(url, async (client) => {
      for (const statement of CLEANUP) await client.query(statement);
    });
  }
}
