// `tsx bench/results.ts`: time to the full results of one experiment with 1,000,000 assignments
// and 5,000,000 events on PostgreSQL, from the raw event store and from the daily rollups.
import { experimentConfigSchema } from "@/features/experiments/core/config";
import { toExperimentMetadata } from "@/features/experiments/server/metadata";
import { ResultsService } from "@/features/experiments/server/results-service";
import { createExperimentServices } from "@/features/experiments/server/services";
import { applyMigrations } from "@/server/db/migrations";
import { refreshRollups } from "@/server/events/rollups";
import { progress, report } from "./lib/report";
import { createThrowawayDatabase, onExit, openDatabase } from "./lib/server";

const SLUG = "bench-results";
const SUBJECTS = Number(process.env.BENCH_RESULTS_SUBJECTS ?? 1_000_000);
const EVENTS = Number(process.env.BENCH_RESULTS_EVENTS ?? 5_000_000);
const RUNS = 5;
const CHUNK = 250_000;

// Deterministic pseudo-random numbers in SQL: a hash of a label and the row number, in [0, 1).
const unit = (label: string, column: string) =>
  `((hashtext('${label}' || ${column}) & 2147483647) / 2147483648.0)`;

async function main() {
  const database = await createThrowawayDatabase({ name: `verdict_bench_results_${process.pid}` });
  const handle = openDatabase(database.url, 4);
  const cleanup = onExit(async () => {
    await handle.close();
    await database.drop();
  });
  try {
    await applyMigrations({ kind: "postgres", url: database.url });
    const { db } = handle;
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
    await db.feature.create({
      data: { slug: SLUG, type: "EXPERIMENT", enabled: true, metadata: toExperimentMetadata(config) },
    });

    const variantOf = (subject: string) =>
      `case when ${unit("variant", subject)} < 0.5 then 'control' else 'treatment' end`;
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
    const conversions = EVENTS - exposures;
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
    const generationSeconds = (Date.now() - generationStart) / 1000;
    const rollupStart = Date.now();
    await refreshRollups(db);
    const rollupSeconds = (Date.now() - rollupStart) / 1000;
    await db.$executeRawUnsafe("analyze");

    const services = createExperimentServices(db, { kind: "postgres", url: database.url });
    const getExperiment = (slug: string) => services.admin.get(slug);
    const raw = new ResultsService(db, getExperiment, () => new Date(), Number.POSITIVE_INFINITY);
    const rolled = new ResultsService(db, getExperiment, () => new Date(), 0);
    const time = async (service: ResultsService) => {
      await service.results(SLUG); // warm-up
      const samples: number[] = [];
      for (let run = 0; run < RUNS; run += 1) {
        const start = process.hrtime.bigint();
        await service.results(SLUG);
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      samples.sort((a, b) => a - b);
      return { median: samples[Math.floor(RUNS / 2)] ?? 0, best: samples[0] ?? 0 };
    };
    const rawTime = await time(raw);
    const rolledTime = await time(rolled);
    const check = await raw.results(SLUG);
    const participants = check.analysis.metrics[0]?.rows.reduce((sum, row) => sum + row.n, 0) ?? 0;
    await services.close();

    report({
      id: "results",
      title: "Results at scale",
      method: `${SUBJECTS.toLocaleString("en")} assignments and ${EVENTS.toLocaleString("en")} events (${exposures.toLocaleString("en")} exposures, the rest conversions over three events and revenue) in one experiment on PostgreSQL, generated in ${generationSeconds.toFixed(0)} s; a full rollup rebuild took ${rollupSeconds.toFixed(1)} s. Time to the complete results (all metrics, statistics, verdict, series) through ResultsService, median of ${RUNS} runs after a warm-up.`,
      columns: ["Source", "Median ms", "Best ms"],
      rows: [
        ["Raw event store", rawTime.median, rawTime.best],
        ["Daily rollups", rolledTime.median, rolledTime.best],
      ],
      ratios: [{ label: "Raw / rollups", value: rawTime.median / Math.max(rolledTime.median, 0.001) }],
      targets: [
        { label: "Raw under 1 s", met: rawTime.median < 1000, detail: `${rawTime.median.toFixed(0)} ms` },
        {
          label: "Rollups under 100 ms",
          met: rolledTime.median < 100,
          detail: `${rolledTime.median.toFixed(1)} ms`,
        },
      ],
      notes: [`The raw analysis counted ${participants.toLocaleString("en")} exposed participants.`],
    });
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
