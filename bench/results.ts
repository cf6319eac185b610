// `tsx bench/results.ts`: time to the full results of one experiment with 1,000,000 assignments
// and 5,000,000 events on PostgreSQL, from the raw event store and from the daily rollups.
//
// Generating the data set takes minutes. While iterating on the queries:
//   tsx bench/results.ts --keep        generates into `verdict_bench_results_kept` once and leaves
//                                      it there; later --keep runs reuse it (migrating it first, so
//                                      new indexes apply, and rebuilding the rollups each time);
//                                      a kept set over 6 hours old is regenerated, since its
//                                      dates are relative to when it was made
//   tsx bench/results.ts --drop-kept   drops that database
// The timings are the same either way: only the generation is skipped.

import { experimentConfigSchema } from "@/features/experiments/core/config";
import { toExperimentMetadata } from "@/features/experiments/server/metadata";
import {
  ResultsQueries,
  type ResultsScope,
  type SubjectGroup,
} from "@/features/experiments/server/results-queries";
import { ResultsService, subjectPlanOf } from "@/features/experiments/server/results-service";
import { ROLLUP_THRESHOLD } from "@/features/experiments/server/rollup-threshold";
import { createExperimentServices } from "@/features/experiments/server/services";
import type { Database } from "@/server/db/client";
import { applyMigrations } from "@/server/db/migrations";
import { withPgClient } from "@/server/db/pg-client";
import { parseEnv } from "@/server/env";
import { rebuildRollups, refreshRecentRollups } from "@/server/events/rollup-jobs";
import { groupKey, measureLayout } from "./lib/raw-layout";
import { progress, report } from "./lib/report";
import { createThrowawayDatabase, onExit, openDatabase, postgresServerUrl } from "./lib/server";

const SLUG = "bench-results";
const SUBJECTS = Number(process.env.BENCH_RESULTS_SUBJECTS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_RESULTS_EVENTS ?? 5_000_000);
/** Of the events, purchases subjects made before their exposure: CUPED's covariate, which both passes read. */
const HISTORY = Number(process.env.BENCH_RESULTS_HISTORY ?? 200_000);
const RUNS = 5;
const CHUNK = 250_000;
const KEPT_DATABASE = "verdict_bench_results_kept";

/** The kept database on the benchmark server, created when missing; never dropped at exit. */
async function keptDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = postgresServerUrl();
  await withPgClient(server, async (admin) => {
    const found = await admin.query("select 1 from pg_database where datname = $1", [KEPT_DATABASE]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${KEPT_DATABASE}`);
  });
  const url = new URL(server);
  url.pathname = `/${KEPT_DATABASE}`;
  return { url: url.toString(), drop: async () => {} };
}

function dropKeptDatabase(): Promise<unknown> {
  return withPgClient(postgresServerUrl(), (admin) =>
    admin.query(`DROP DATABASE IF EXISTS ${KEPT_DATABASE} WITH (FORCE)`),
  );
}

// Deterministic pseudo-random numbers in SQL: a hash of a label and the row number, in [0, 1).
const unit = (label: string, column: string) =>
  `((hashtext('${label}' || ${column}) & 2147483647) / 2147483648.0)`;

const variantOf = (subject: string) =>
  `case when ${unit("variant", subject)} < 0.5 then 'control' else 'treatment' end`;

const config = experimentConfigSchema.parse({
  variants: [
    { name: "control", percentage: 50 },
    { name: "treatment", percentage: 50 },
  ],
  scope: "visitor",
  status: "running",
  startedAt: new Date(Date.now() - 30 * 86_400_000).toISOString(),
  conversionEvents: ["signup", "add_to_cart", "purchase"],
});

type DataSet = { exposures: number; history: number; generationSeconds: number | null };

/** The seeded data set: assignments over the last 30 days, 92% exposed, the other events conversions. */
async function generate(db: Database): Promise<DataSet> {
  await db.feature.create({
    data: { slug: SLUG, type: "EXPERIMENT", enabled: true, metadata: toExperimentMetadata(config) },
  });
  const generationStart = Date.now();
  for (let from = 1; from <= SUBJECTS; from += CHUNK) {
    const to = Math.min(SUBJECTS, from + CHUNK - 1);
    await db.$executeRawUnsafe(`
      insert into "ExperimentVariant" ("id", "experimentSlug", "phase", "variant", "visitorId", "assignmentType", "assignedAt", "firstExposedAt")
      select gen_random_uuid(), '${SLUG}', 1, ${variantOf("i")}, 'visitor-' || i, 'DETERMINISTIC',
        now() - interval '30 days' * ${unit("assigned", "i")},
        case when ${unit("exposed", "i")} < 0.92 then now() - interval '30 days' * ${unit("assigned", "i")} + interval '5 seconds' end
      from generate_series(${from}, ${to}) as i`);
    progress("assignments", to, SUBJECTS);
  }
  const exposures = await db.$executeRawUnsafe(`
    insert into "Event" ("id", "name", "occurredAt", "visitorId", "experimentSlug", "variant", "phase", "properties", "source", "idempotencyKey", "deliveryStatus")
    select gen_random_uuid(), 'experiment_viewed', "firstExposedAt", "visitorId", "experimentSlug", "variant", 1,
      jsonb_build_object('experiment_slug', "experimentSlug", 'variant', "variant"), 'BROWSER',
      'exposure:${SLUG}:1:' || "visitorId", 'LOCAL_ONLY'
    from "ExperimentVariant" where "experimentSlug" = '${SLUG}' and "firstExposedAt" is not null`);
  const conversions = EVENTS - exposures - HISTORY;
  for (let from = 1; from <= conversions; from += CHUNK) {
    const to = Math.min(conversions, from + CHUNK - 1);
    // Each conversion belongs to a pseudo-random subject, several events for many of them.
    await db.$executeRawUnsafe(`
      insert into "Event" ("id", "name", "occurredAt", "visitorId", "experimentSlug", "variant", "phase", "properties", "source", "idempotencyKey", "deliveryStatus")
      select gen_random_uuid(), 'experiment_conversion', now() - interval '29 days' * ${unit("at", "j")},
        'visitor-' || s.subject, '${SLUG}', ${variantOf("s.subject")}, 1,
        case when ${unit("kind", "j")} < 0.6 then '{"conversion_event":"add_to_cart"}'::jsonb
             when ${unit("kind", "j")} < 0.9 then '{"conversion_event":"signup"}'::jsonb
             else jsonb_build_object('conversion_event', 'purchase', 'value', round((20 + 80 * ${unit("value", "j")})::numeric, 2), 'currency', 'EUR') end,
        'SERVER', 'bench-conversion-' || j, 'LOCAL_ONLY'
      from generate_series(${from}, ${to}) as j,
        lateral (select 1 + floor(${unit("subject", "j")} * ${SUBJECTS})::int as subject) s`);
    progress("events", to, conversions);
  }
  // Earlier purchases of exposed buyers (not attributed to the test, as a shop's orders are), most
  // in the 30 days before exposure that CUPED reads, some before that; a returning customer spends
  // alike before and after, so the covariate explains part of revenue, as CUPED expects.
  // Statistics first: without them the planner loops over the ledger for every purchase.
  await db.$executeRawUnsafe(`analyze "Event", "ExperimentVariant"`);
  const history = await db.$executeRawUnsafe(`
    insert into "Event" ("id", "name", "occurredAt", "visitorId", "properties", "source", "idempotencyKey", "deliveryStatus")
    select gen_random_uuid(), 'purchase', b."firstExposedAt" - interval '40 days' * ${unit("before", `b."visitorId"`)},
      b."visitorId",
      jsonb_build_object('value', round((b.revenue * (0.3 + 0.6 * ${unit("paid", `b."visitorId"`)}))::numeric, 2), 'currency', 'EUR'),
      'SERVER', 'bench-history-' || b."visitorId", 'LOCAL_ONLY'
    from (
      select a."visitorId", a."firstExposedAt", sum((e."properties"->>'value')::numeric) as revenue
      from "Event" e
      join "ExperimentVariant" a on a."experimentSlug" = '${SLUG}' and a."visitorId" = e."visitorId"
      where e."experimentSlug" = '${SLUG}' and e."name" = 'experiment_conversion'
        and e."properties"->>'conversion_event' = 'purchase' and a."firstExposedAt" is not null
      group by 1, 2
      order by 1
      limit ${HISTORY}
    ) b`);
  progress("history", history, HISTORY);
  return { exposures, history, generationSeconds: (Date.now() - generationStart) / 1000 };
}

/**
 * The kept data set, when it is complete and recent: its dates are relative to when it was made,
 * and a day-old one would leave the refresh of the last days less to read than a fresh one.
 */
async function reusable(db: Database): Promise<DataSet | null> {
  const [row] = await db.$queryRawUnsafe<
    { assigned: number; events: number; exposures: number; history: number; latest: Date | null }[]
  >(`
    select (select count(*)::int from "ExperimentVariant" where "experimentSlug" = '${SLUG}') as assigned,
      (select count(*)::int from "Event") as events,
      (select count(*)::int from "Event" where "experimentSlug" = '${SLUG}' and "name" = 'experiment_viewed') as exposures,
      (select count(*)::int from "Event" where "name" = 'purchase') as history,
      (select max("assignedAt") from "ExperimentVariant" where "experimentSlug" = '${SLUG}') as latest`);
  const recent = row?.latest ? Date.now() - row.latest.getTime() < 6 * 3_600_000 : false;
  if (!row || !recent || row.assigned !== SUBJECTS || row.events !== EVENTS || row.history !== HISTORY)
    return null;
  return { exposures: row.exposures, history: row.history, generationSeconds: null };
}

/**
 * The least work any raw analysis of the test does: one pass grouping its conversion events by
 * subject (a rate counts subjects, not events), computing nothing.
 */
const GROUPING_FLOOR_SQL = `
  select count(*)::int as subjects from (
    select "visitorId" from "Event"
    where "experimentSlug" = '${SLUG}' and "name" = 'experiment_conversion' and "visitorId" is not null and "phase" = 1
    group by 1
  ) grouped`;

type RollupRow = Record<string, unknown>;

/** Subject groups in a fixed order, to compare two passes. */
function inOrder(groups: SubjectGroup[]): SubjectGroup[] {
  return [...groups].sort((a, b) => groupKey(a).localeCompare(groupKey(b)));
}

/** The rollup table, `updatedAt` aside, in a fixed order. */
function rollupRows(db: Database): Promise<RollupRow[]> {
  return db.$queryRawUnsafe<RollupRow[]>(`
    select "day"::text, "experimentSlug", "phase", "variant", "assignments", "exposures", "conversions",
      "revenue", "revenueSquares", "currency", "covariateSum", "covariateSquares", "covariateCross", "withHistory"
    from "experiment_rollups_daily" order by "day", "experimentSlug", "phase", "variant"`);
}

/** Equal up to floating-point summation order (the two passes may add the same values in another order). */
function sameFigures(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number")
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => sameFigures((a as RollupRow)[key], (b as RollupRow)[key]));
  }
  return a === b;
}

async function main() {
  if (process.argv.includes("--drop-kept")) return dropKeptDatabase();
  const keep = process.argv.includes("--keep");
  const database = keep
    ? await keptDatabase()
    : await createThrowawayDatabase({ name: `verdict_bench_results_${process.pid}` });
  const handle = openDatabase(database.url, 4);
  const cleanup = onExit(async () => {
    await handle.close();
    await database.drop();
  });
  try {
    await applyMigrations({ kind: "postgres", url: database.url });
    const { db } = handle;
    let data = keep ? await reusable(db) : null;
    if (data) console.error(`• Reusing the data set kept in ${KEPT_DATABASE}`);
    else {
      if (keep) await db.$executeRawUnsafe(`truncate "Feature", "ExperimentVariant", "Event" cascade`);
      data = await generate(db);
    }
    const { exposures, history, generationSeconds } = data;
    // Statistics first, as autovacuum would have them: the rollup rebuild's plan depends on them too.
    await db.$executeRawUnsafe("analyze");
    const rollupStart = Date.now();
    await rebuildRollups(db);
    const rollupSeconds = (Date.now() - rollupStart) / 1000;
    await db.$executeRawUnsafe(`analyze "experiment_rollups_daily"`);
    // What the app's schedule does every few minutes: the last two days, rereading only the
    // subjects with news since then. It must leave exactly what the full rebuild wrote.
    const rebuilt = await rollupRows(db);
    const recentStart = Date.now();
    await refreshRecentRollups(db);
    const recentSeconds = (Date.now() - recentStart) / 1000;
    const refreshed = await rollupRows(db);
    const recentAgrees = refreshed.length === rebuilt.length && sameFigures(refreshed, rebuilt);
    const services = createExperimentServices(db, { kind: "postgres", url: database.url });
    const getExperiment = (slug: string) => services.admin.get(slug);
    const { RESULTS_QUERY_PARALLELISM: parallelism } = parseEnv({
      RESULTS_QUERY_PARALLELISM: process.env.RESULTS_QUERY_PARALLELISM,
    });
    const raw = new ResultsService(db, getExperiment, {
      rollupThreshold: Number.POSITIVE_INFINITY,
      parallelism,
    });
    const rolled = new ResultsService(db, getExperiment, { rollupThreshold: 0 });
    const time = async (pass: () => Promise<unknown>) => {
      await pass(); // warm-up
      const samples: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        const start = process.hrtime.bigint();
        await pass();
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      samples.sort((a, b) => a - b);
      return { median: samples[Math.floor(RUNS / 2)] ?? 0, best: samples[0] ?? 0 };
    };
    const rawTime = await time(() => raw.results(SLUG));
    const rolledTime = await time(() => rolled.results(SLUG));
    const floorTime = await time(() => db.$queryRawUnsafe(GROUPING_FLOOR_SQL));
    const check = await raw.results(SLUG);
    const participants = check.analysis.metrics[0]?.rows.reduce((sum, row) => sum + row.n, 0) ?? 0;
    // Both sources, one analysis: every figure, CUPED's adjustment of revenue included.
    const rolledCheck = await rolled.results(SLUG);
    const sameAnalysis =
      rolledCheck.source === "rollups" && sameFigures(rolledCheck.analysis, check.analysis);
    const varianceCut = check.analysis.metrics
      .find((metric) => metric.metric === "revenue")
      ?.rows.find((row) => !row.isControl)?.comparison?.cuped?.varianceReduction;
    // Last, as it alters the tables: the event-store pass on the fastest layout PostgreSQL offers.
    const { config: stored } = await getExperiment(SLUG);
    const settings = stored.analysis;
    const scope: ResultsScope = {
      slug: SLUG,
      phase: stored.phase,
      scope: stored.scope,
      exposedOnly: settings.population === "exposed",
    };
    const { plan } = subjectPlanOf(stored, settings);
    const productGroups = await new ResultsQueries(db).subjectGroups(scope, plan);
    await services.close();
    const layout = await measureLayout(database.url, scope, plan, RUNS);
    const layoutAgrees = sameFigures(inOrder(layout.groups), inOrder(productGroups));

    report({
      id: "results",
      title: "Results at scale",
      method: `${SUBJECTS.toLocaleString("en")} assignments and ${EVENTS.toLocaleString("en")} events (${exposures.toLocaleString("en")} exposures, ${history.toLocaleString("en")} purchases before exposure for CUPED, the rest conversions over three events and revenue) in one experiment on PostgreSQL, ${generationSeconds === null ? `reused from ${KEPT_DATABASE}` : `generated in ${generationSeconds.toFixed(0)} s`}; a full rollup rebuild took ${rollupSeconds.toFixed(1)} s, and a refresh of the last two days (the app's schedule, every 5 minutes) ${recentSeconds.toFixed(1)} s. Time to the complete results (all metrics, statistics, verdict, series) through ResultsService, median of ${RUNS} runs after a warm-up.`,
      columns: ["Source", "Median ms", "Best ms"],
      rows: [
        ["Raw event store", rawTime.median, rawTime.best],
        ["Daily rollups", rolledTime.median, rolledTime.best],
        ["Floor: the conversions grouped by subject, nothing else", floorTime.median, floorTime.best],
        [
          "The event-store pass alone, on the fastest layout PostgreSQL offers: one statement",
          layout.single.median,
          layout.single.best,
        ],
        ["The same, its two halves at once (both cores)", layout.halves.median, layout.halves.best],
      ],
      ratios: [
        { label: "Raw / rollups", value: rawTime.median / Math.max(rolledTime.median, 0.001) },
        { label: "Raw / the floor", value: rawTime.median / Math.max(floorTime.median, 0.001) },
      ],
      targets: [
        {
          label: "Raw under 1 s",
          met: rawTime.median < 1000,
          detail: `${rawTime.median.toFixed(0)} ms (the floor, grouping alone: ${floorTime.median.toFixed(0)} ms; the pass alone on the fastest layout PostgreSQL offers, on both cores: ${layout.halves.median.toFixed(0)} ms)`,
        },
        {
          label: "Rollups under 100 ms",
          met: rolledTime.median < 100,
          detail: `${rolledTime.median.toFixed(1)} ms`,
        },
        {
          label: "A refresh of the last two days leaves the full rebuild's rollups",
          met: recentAgrees,
          detail: `${refreshed.length} rows ${recentAgrees ? "identical" : "that differ"}`,
        },
        {
          label: "The rollups give the event store's analysis, CUPED included",
          met: sameAnalysis && varianceCut !== undefined,
          detail: `${sameAnalysis ? "identical" : "different"} analyses; CUPED cut revenue's variance by ${varianceCut === undefined ? "nothing (not applied)" : `${(varianceCut * 100).toFixed(1)}%`}`,
        },
      ],
      notes: [
        `The raw analysis counted ${participants.toLocaleString("en")} exposed participants.`,
        `The fastest layout PostgreSQL offers (set up for the measurement in ${layout.setupSeconds.toFixed(0)} s, removed afterwards): each conversion event and ledger row also in an index sorted by subject that holds every figure the pass reads, so it reads nothing else; the subject as a 64-bit hash, compared as an integer; the event's name and value out of its JSON, in generated columns. The pass merges the two sorted streams, so no subject is hashed, and with both cores each half of the subjects is one connection's. It ${layoutAgrees ? "gave the product's raw pass's figures, identical" : "did NOT give the product's raw pass's figures: the row measures something else"}. It is the event-store query alone, without the statistics, ${layout.halves.median >= 1000 ? "and even so it takes over 1 s on this machine: the raw target needs more than PostgreSQL's row store on two cores" : "and it gets under 1 s on this machine"}. As the product's, the layout would cost every conversion event one more index entry as it is stored.`,
        `The floor is the one pass every raw analysis makes: the test's conversion events grouped by subject, since a rate counts subjects, not events (and revenue's variance needs each subject's sum). It computes nothing and runs as PostgreSQL plans it with the server's settings, on one core, so no single statement over the event table as it is stored runs faster on this machine. The raw pass runs in ${parallelism} part${parallelism === 1 ? "" : "s"} at once (RESULTS_QUERY_PARALLELISM), each grouping its share of the subjects on a core. The rollups are how the results page gets under it (tests above ${ROLLUP_THRESHOLD.toLocaleString("en")} assignments read them).`,
      ],
    });
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
