import { describe, expect, it } from "vitest";
import { proportionTest } from "@/features/experiments/core/stats";
import { resultsToCsv } from "@/features/experiments/server/results-csv";
import { fromSubjectGroups } from "@/features/experiments/server/results-folding";
import { ResultsQueries } from "@/features/experiments/server/results-queries";
import {
  type ExperimentResults,
  ResultsService,
  subjectPlanOf,
} from "@/features/experiments/server/results-service";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { refreshRollups } from "@/server/events/rollups";
import { RESULTS_DEMO_SLUG, seedResultsDemo } from "@/server/seed-results-demo";
import { databaseKinds, type TestDatabase } from "./databases";
import { ADMIN, createExperiment, withFreshServices } from "./experiments-fixture";

const visitor = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/**
 * Deep equality, numbers to 1e-9 relative: revenue squares are summed in a different order from
 * the daily rollups than from the raw events, which moves the last bits of the statistics.
 */
function expectSameAnalysis(actual: unknown, expected: unknown, path = "analysis"): void {
  if (typeof expected === "number" && typeof actual === "number") {
    expect(Math.abs(actual - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(expected)),
    );
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, `${path}.length`).toBe(expected.length);
    expected.forEach((item, index) => {
      expectSameAnalysis((actual as unknown[])[index], item, `${path}[${index}]`);
    });
  } else if (expected !== null && typeof expected === "object") {
    expect(actual !== null && typeof actual === "object", path).toBe(true);
    expect(Object.keys(actual as object).sort(), `${path} keys`).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected))
      expectSameAnalysis((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else {
    expect(actual, path).toEqual(expected);
  }
}

describe.each(databaseKinds())("experiment results on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  withFreshServices(kind, {}, (database, experiments) => {
    test = database;
    services = experiments;
  });

  /** Enrols visitors 1..n through the real services; returns each one's variant. */
  async function enrol(slug: string, count: number, exposed: (n: number) => boolean) {
    const variants = new Map<number, string>();
    for (let n = 1; n <= count; n += 1) {
      const { variant } = await services.assignments.getVariantForVisitor(slug, visitor(n));
      variants.set(n, variant as string);
      if (exposed(n)) {
        await services.events.recordExposure({
          slug,
          variant: variant as string,
          ids: { visitorId: visitor(n) },
          source: "BROWSER",
          consent: "not-required",
        });
      }
    }
    return variants;
  }

  async function convert(
    slug: string,
    n: number,
    event: string,
    properties: Record<string, unknown> = {},
    occurredAt?: Date,
  ) {
    await services.events.recordConversion({
      occurredAt,
      slug,
      event,
      idempotencyKey: `results-${slug}-${n}-${event}-${Object.values(properties)
        .join("-")
        .replace(/[^A-Za-z0-9]/g, "")}`,
      properties: properties as Record<string, string | number>,
      ids: { visitorId: visitor(n) },
      source: "SERVER",
      consent: "not-required",
    });
  }

  it("counts participants, exposures and unique converters per variant, exposure-based by default", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup", "purchase"] });
    // Every third visitor never sees the page: assigned but not exposed.
    const variants = await enrol(slug, 60, (n) => n % 3 !== 0);
    for (const n of [1, 2, 3, 4, 5, 7, 8]) await convert(slug, n, "signup");
    await convert(slug, 1, "signup", { again: 1 }); // a second signup event: still one converter
    await convert(slug, 2, "purchase", { value: 40, currency: "EUR" });
    await convert(slug, 2, "purchase", { value: "10.5", currency: "EUR" });
    await convert(slug, 4, "purchase", { value: 25, currency: "EUR" });

    const results = await services.results.results(slug);
    const signup = results.analysis.metrics.find((metric) => metric.metric === "signup");
    expect(signup?.role).toBe("primary");
    const expected = (variant: string, exposedOnly: boolean) => {
      const members = [...variants].filter(([n, v]) => v === variant && (!exposedOnly || n % 3 !== 0));
      const converters = members.filter(([n]) => [1, 2, 3, 4, 5, 7, 8].includes(n)).length;
      return { n: members.length, converters };
    };
    for (const row of signup?.rows ?? []) {
      const want = expected(row.variant, true);
      expect(row.n).toBe(want.n);
      expect(row.total).toBe(want.converters);
    }
    // Visitor 3 converted but was never exposed: counted only when every assigned subject counts.
    const assigned = await services.results.results(slug, { population: "assigned" });
    for (const row of assigned.analysis.metrics[0]?.rows ?? []) {
      const want = expected(row.variant, false);
      expect(row.n).toBe(want.n);
      expect(row.total).toBe(want.converters);
    }

    // The comparison is the stats core's, on exactly these counts (Holm over 2 goal metrics).
    const control = signup?.rows.find((row) => row.isControl);
    const treatment = signup?.rows.find((row) => !row.isControl);
    const direct = proportionTest(
      { n: control?.n ?? 0, conversions: control?.total ?? 0 },
      { n: treatment?.n ?? 0, conversions: treatment?.total ?? 0 },
      { alpha: results.analysis.intervalAlpha, sequential: true, sequentialTuning: 5000 },
    );
    expect(treatment?.comparison?.pValue).toBeCloseTo(direct.pValue ?? Number.NaN, 12);

    const revenue = results.analysis.metrics.find((metric) => metric.metric === "revenue");
    const revenueTotal = (revenue?.rows ?? []).reduce((sum, row) => sum + row.total, 0);
    expect(revenueTotal).toBeCloseTo(75.5, 9);

    const exposureLoss = results.analysis.exposureLoss;
    expect(exposureLoss.perVariant.reduce((sum, entry) => sum + entry.assigned, 0)).toBe(60);
    expect(exposureLoss.perVariant.reduce((sum, entry) => sum + entry.exposed, 0)).toBe(40);
    expect(exposureLoss.missingShare).toBeCloseTo(1 / 3, 9);
    expect(exposureLoss.warning).toMatch(/33% of assigned subjects have no recorded exposure/);
  });

  it("flags subjects seen in another variant and keeps phases apart", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup"] });
    const variants = await enrol(slug, 10, () => true);
    const other = (variant: string) => (variant === "control" ? "treatment" : "control");
    await services.events.recordExposure({
      slug,
      variant: other(variants.get(1) ?? "control"),
      ids: { visitorId: visitor(1) },
      source: "BROWSER",
      consent: "not-required",
    });
    const before = await services.results.results(slug);
    expect(before.analysis.flaggedSubjects).toBe(1);
    expect(before.phases).toEqual([1]);

    const current = await services.admin.get(slug);
    await services.lifecycle.update(
      slug,
      {
        variants: [
          { name: "control", percentage: 50 },
          { name: "treatment", percentage: 50 },
        ],
      },
      ADMIN,
      { expectedVersion: current.version, variantChange: "rerandomize" },
    );
    await enrol(slug, 4, () => true);
    const phase2 = await services.results.results(slug);
    expect(phase2.phase).toBe(2);
    expect(phase2.phases).toEqual([2, 1]);
    expect(phase2.analysis.exposureLoss.perVariant.reduce((sum, entry) => sum + entry.assigned, 0)).toBe(4);
    const phase1 = await services.results.results(slug, { phase: 1 });
    expect(phase1.analysis.exposureLoss.perVariant.reduce((sum, entry) => sum + entry.assigned, 0)).toBe(10);
    await expect(services.results.results(slug, { phase: 7 })).rejects.toMatchObject({
      code: "PHASE_NOT_FOUND",
    });
  });

  it("reads every figure from the daily rollups for large tests, agreeing with the event store", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup", "purchase"] });
    // Every fourth visitor is assigned but never exposed, and some of them convert and buy: the
    // exposure-based default must leave them out on both paths.
    const variants = await enrol(slug, 40, (n) => n % 4 !== 0);
    for (const n of [1, 2, 3, 4, 5, 8, 12, 16, 20, 21, 25]) await convert(slug, n, "signup");
    // Visitor 2 bought the day before (before their exposure) and again today: one subject whose
    // revenue spans two days, squared as a whole.
    await convert(slug, 2, "purchase", { value: 40, currency: "EUR" }, new Date(Date.now() - 86_400_000));
    await convert(slug, 2, "purchase", { value: "10.5", currency: "EUR" });
    await convert(slug, 4, "purchase", { value: 25, currency: "EUR" });
    await convert(slug, 6, "purchase", { value: 30, currency: "EUR" });
    await convert(slug, 8, "purchase", { value: 60, currency: "EUR" });
    await convert(slug, 9, "purchase", { value: 15, currency: "EUR" });
    // Visitor 5 is shown the other variant once: flagged on both paths.
    const five = variants.get(5) ?? "control";
    await services.events.recordExposure({
      slug,
      variant: five === "control" ? "treatment" : "control",
      ids: { visitorId: visitor(5) },
      source: "BROWSER",
      consent: "not-required",
    });

    const large = new ResultsService(test.db, (name) => services.admin.get(name), { rollupThreshold: 0 });
    // The scheduler's refresh: the large read uses the rollups as they are, the event store's is
    // exact whatever they say.
    await refreshRollups(test.db, undefined, slug);
    for (const population of ["exposed", "assigned"] as const) {
      const fromEvents = await services.results.results(slug, { population });
      const fromRollups = await large.results(slug, { population });
      expect(fromEvents.source).toBe("events");
      expect(fromRollups.source).toBe("rollups");
      expect(fromRollups.analysis.flaggedSubjects).toBe(1);
      expectSameAnalysis(fromRollups.analysis, fromEvents.analysis);
      expectSameAnalysis(fromRollups.series, fromEvents.series);
    }
    // The unexposed converters and buyers are really there, so the default's agreement is no accident.
    const exposed = await large.results(slug);
    const assigned = await large.results(slug, { population: "assigned" });
    const total = (results: typeof exposed, metric: string) =>
      results.analysis.metrics
        .find((entry) => entry.metric === metric)
        ?.rows.reduce((sum, row) => sum + row.total, 0);
    expect(total(exposed, "signup")).toBe(6);
    expect(total(assigned, "signup")).toBe(11);
    expect(total(exposed, "revenue")).toBeCloseTo(40 + 10.5 + 30 + 15, 9);
    expect(total(assigned, "revenue")).toBeCloseTo(40 + 10.5 + 25 + 30 + 60 + 15, 9);
    // The chart ends at the table's rate: exposed converters over exposures.
    for (const row of exposed.analysis.metrics[0]?.rows ?? []) {
      const last = exposed.series.filter((point) => point.variant === row.variant).at(-1);
      expect(last?.cumulativeConverters).toBe(row.total);
      expect(last?.cumulativeExposures).toBe(row.n);
    }

    // Rows from an older version (converters without the exposure split) are rebuilt, not trusted.
    await test.db.$executeRaw`update "experiment_rollups_daily"
      set "conversions" = jsonb_build_object('signup', jsonb_build_object('count', 99, 'converters', 99))
      where "experimentSlug" = ${slug}`;
    const rebuilt = await large.results(slug);
    expect(rebuilt.source).toBe("rollups");
    expectSameAnalysis(rebuilt.analysis, exposed.analysis);
  });

  it("says when a large test's rollups were refreshed, and an admin's refresh brings in new events", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup"] });
    await enrol(slug, 12, () => true);
    for (const n of [1, 2, 3]) await convert(slug, n, "signup");
    const large = new ResultsService(test.db, (name) => services.admin.get(name), { rollupThreshold: 0 });
    const signups = (results: ExperimentResults) =>
      results.analysis.metrics[0]?.rows.reduce((sum, row) => sum + row.total, 0);

    // Before any refresh there are no rollup rows to count assignments from, so even a "large"
    // reading takes the event store, exact as of computedAt: no refresh time there.
    const before = await large.results(slug);
    expect(before.source).toBe("events");
    expect(before.refreshedAt).toBeNull();

    const startedAt = Date.now();
    const first = await large.refreshRollups(slug);
    expect(first).toMatchObject({ slug, refreshed: true });
    const stamped = Date.parse(first.refreshedAt ?? "");
    // The transaction's start, by the database's clock (the same machine here).
    expect(Math.abs(stamped - startedAt)).toBeLessThan(5_000);
    const refreshed = await large.results(slug);
    expect(refreshed.refreshedAt).toBe(first.refreshedAt);
    expect(signups(refreshed)).toBe(3);

    // New conversions wait for the next refresh; "Refresh now" brings them in with a newer stamp.
    for (const n of [4, 5]) await convert(slug, n, "signup");
    expect(signups(await large.results(slug))).toBe(3);
    const second = await large.refreshRollups(slug);
    expect(second.refreshed).toBe(true);
    expect(Date.parse(second.refreshedAt ?? "")).toBeGreaterThanOrEqual(stamped);
    const after = await large.results(slug);
    expect(signups(after)).toBe(5);
    expect(after.refreshedAt).toBe(second.refreshedAt);
    // Every figure equals the event store's.
    expectSameAnalysis(after.analysis, (await services.results.results(slug)).analysis);

    // Rollups written before refreshes were recorded (an upgrade): read as they are, with no stamp,
    // unless CUPED (the exposure-based default) needs its sums, which only a rebuild vouches for.
    await test.db.experimentRollupRefresh.delete({ where: { experimentSlug: slug } });
    const unstamped = await large.results(slug, { population: "assigned" });
    expect(unstamped.source).toBe("rollups");
    expect(unstamped.refreshedAt).toBeNull();
    const rebuilt = await large.results(slug);
    expect(rebuilt.source).toBe("rollups");
    const stamp = await test.db.experimentRollupRefresh.findUnique({ where: { experimentSlug: slug } });
    expect(rebuilt.refreshedAt).toBe(stamp?.refreshedAt.toISOString());
    expect(stamp?.rebuiltAt).toEqual(stamp?.refreshedAt);

    await expect(large.refreshRollups("no-such-test")).rejects.toMatchObject({
      code: "EXPERIMENT_NOT_FOUND",
    });
  });

  it("charts a small test from the event store, exact on every load, one point a day", async () => {
    const slug = await createExperiment(services, { conversionEvents: ["signup"] });
    await enrol(slug, 12, (n) => n % 4 !== 0);
    const dayAgo = new Date(Date.now() - 86_400_000);
    const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
    // Conversions before the exposures: they join the exposure-based chart on the exposure day.
    for (const n of [1, 2, 3]) await convert(slug, n, "signup", {}, threeDaysAgo);
    for (const n of [4, 5]) await convert(slug, n, "signup", {}, dayAgo);
    await convert(slug, 6, "signup");
    for (const population of ["exposed", "assigned"] as const) {
      const results = await services.results.results(slug, { population });
      expect(results.source).toBe("events");
      const days = [...new Set(results.series.map((point) => point.day))];
      // The assigned population counts converters from their first conversion, three days back.
      expect(days).toHaveLength(population === "assigned" ? 4 : 1);
      for (const row of results.analysis.metrics[0]?.rows ?? []) {
        const points = results.series.filter((point) => point.variant === row.variant);
        expect(points.map((point) => point.day)).toEqual(days);
        expect(points.at(-1)?.cumulativeConverters).toBe(row.total);
      }
    }
    // None of it came from the rollups: there are none for this test.
    expect(await test.db.experimentRollupDaily.count({ where: { experimentSlug: slug } })).toBe(0);
  });

  it("keys a team test's subjects by team on both sources", async () => {
    const slug = await createExperiment(services, {
      scope: "team",
      conversionEvents: ["signup", "purchase"],
    });
    const day = (daysAgo: number, hour = 10) => {
      const at = new Date(Date.now() - daysAgo * 86_400_000);
      at.setUTCHours(hour, 0, 0, 0);
      return at;
    };
    const team = (n: number) => `team-${slug}-${n}`;
    await test.db.experimentVariant.createMany({
      data: [1, 2, 3, 4, 5, 6].map((n) => ({
        experimentSlug: slug,
        variant: n % 2 ? "control" : "treatment",
        teamId: team(n),
        assignmentType: "DETERMINISTIC" as const,
        assignedAt: day(3, 8),
        // Team 5 is never exposed, team 6 only after its purchases.
        firstExposedAt: n === 5 ? null : day(n === 6 ? 1 : 3, 9),
      })),
    });
    const event = (n: number, userId: string, at: Date, properties: Record<string, string | number>) => ({
      name: "experiment_conversion",
      occurredAt: at,
      teamId: team(n),
      userId,
      visitorId: `${userId}-browser`,
      experimentSlug: slug,
      // What the event claims is not what counts: the ledger's variant does.
      variant: "treatment",
      phase: 1,
      properties,
      source: "SERVER" as const,
      idempotencyKey: `${slug}-${userId}-${properties.conversion_event}`,
    });
    await test.db.event.createMany({
      data: [
        // Two members of team 1 sign up: one converting team.
        event(1, "alice", day(3), { conversion_event: "signup" }),
        event(1, "bob", day(2), { conversion_event: "signup" }),
        // Team 2 buys twice through two members: 30 + 20 = 50 for one subject.
        event(2, "carol", day(3), { conversion_event: "purchase", value: 30, currency: "EUR" }),
        event(2, "dave", day(1), { conversion_event: "purchase", value: "20", currency: "EUR" }),
        event(5, "erin", day(2), { conversion_event: "signup" }),
        event(6, "frank", day(2), { conversion_event: "purchase", value: 15, currency: "EUR" }),
        // Not in the test: no ledger row for team 9.
        event(9, "grace", day(2), { conversion_event: "signup" }),
      ],
    });
    await refreshRollups(test.db, undefined, slug);
    const large = new ResultsService(test.db, (name) => services.admin.get(name), { rollupThreshold: 0 });
    for (const population of ["exposed", "assigned"] as const) {
      const fromEvents = await services.results.results(slug, { population });
      const fromRollups = await large.results(slug, { population });
      expect(fromRollups.source).toBe("rollups");
      expectSameAnalysis(fromRollups.analysis, fromEvents.analysis);
      expectSameAnalysis(fromRollups.series, fromEvents.series);
      const revenue = fromEvents.analysis.metrics.find((metric) => metric.metric === "revenue");
      const treatment = revenue?.rows.find((row) => row.variant === "treatment");
      expect(treatment?.total).toBeCloseTo(65, 9);
      const signup = fromEvents.analysis.metrics.find((metric) => metric.metric === "signup");
      const total = signup?.rows.reduce((sum, row) => sum + row.total, 0);
      expect(total).toBe(population === "exposed" ? 1 : 2);
    }
  });

  it("reads the seeded demo: a clear verdict, a daily chart and a CSV", async () => {
    const now = new Date();
    expect(await seedResultsDemo(test.db, now)).toBe(true);
    expect(await seedResultsDemo(test.db, now)).toBe(false);
    const results = await services.results.results(RESULTS_DEMO_SLUG);
    expect(results.analysis.srm.mismatch).toBe(false);
    expect(results.analysis.enoughData).toBe(true);
    expect(results.verdict.headline.length).toBeGreaterThan(20);
    expect(results.progress.daysRunning).toBeGreaterThan(13.9);
    expect(results.progress.neededPerVariant).toBeGreaterThan(0);
    expect(results.seriesMetric).toBe("begin_checkout");
    const days = new Set(results.series.map((point) => point.day));
    expect(days.size).toBeGreaterThanOrEqual(14);
    // The last cumulative point of each arm equals the arm's total exposures (rollups add up).
    for (const row of results.analysis.exposureLoss.perVariant) {
      const last = results.series.filter((point) => point.variant === row.variant).at(-1);
      expect(last?.cumulativeExposures).toBe(row.exposed);
    }
    // Returning customers' earlier purchases reduce the revenue comparison's variance (CUPED).
    const revenue = results.analysis.metrics.find((metric) => metric.metric === "revenue");
    const cupedRow = revenue?.rows.find((row) => !row.isControl)?.comparison?.cuped;
    expect(cupedRow?.varianceReduction).toBeGreaterThan(0.02);
    const plain = await services.results.results(RESULTS_DEMO_SLUG, { population: "assigned" });
    expect(
      plain.analysis.metrics.find((metric) => metric.metric === "revenue")?.rows[1]?.comparison?.cuped,
    ).toBeNull();
    // Read as a large test, from the rollups: the same analysis, CUPED's adjustment included.
    const large = new ResultsService(test.db, (name) => services.admin.get(name), { rollupThreshold: 0 });
    await refreshRollups(test.db, undefined, RESULTS_DEMO_SLUG);
    for (const [population, fromEvents] of [
      ["exposed", results],
      ["assigned", plain],
    ] as const) {
      const fromRollups = await large.results(RESULTS_DEMO_SLUG, { population });
      expect(fromRollups.source).toBe("rollups");
      expectSameAnalysis(fromRollups.analysis, fromEvents.analysis);
      expectSameAnalysis(fromRollups.series, fromEvents.series);
    }
    const csv = resultsToCsv(results).trim().split("\r\n");
    expect(csv[0]?.split(",")).toContain("relative_lift");
    expect(csv).toHaveLength(1 + results.analysis.metrics.length * 2);
    // Demo events never leave the machine.
    const outbound = await test.db.event.count({
      where: { experimentSlug: RESULTS_DEMO_SLUG, deliveryStatus: { not: "LOCAL_ONLY" } },
    });
    expect(outbound).toBe(0);
  });

  it("splits the event-store pass by subject into parts that add up to the whole pass", async () => {
    // The demo as the test before left it (seeding is idempotent).
    await seedResultsDemo(test.db, new Date());
    // A ledger row without the scope's id counts as assigned: in exactly one part.
    await test.db.experimentVariant.create({
      data: {
        experimentSlug: RESULTS_DEMO_SLUG,
        variant: "control",
        userId: "signed-in-without-a-visitor-id",
        assignmentType: "DETERMINISTIC",
      },
    });
    const { config } = await services.admin.get(RESULTS_DEMO_SLUG);
    const { plan, cuped } = subjectPlanOf(config, config.analysis);
    expect(plan.history).toBe(true);
    const scope = { slug: RESULTS_DEMO_SLUG, phase: config.phase, scope: config.scope, exposedOnly: true };
    const queries = new ResultsQueries(test.db);
    const whole = await queries.subjectGroups(scope, plan);
    const parts = [];
    for (let index = 0; index < 3; index += 1)
      parts.push(await queries.subjectGroups(scope, plan, { index, of: 3 }));
    const subjects = (groups: typeof whole) => groups.reduce((sum, group) => sum + group.subjects, 0);
    expect(subjects(whole)).toBe(
      await test.db.experimentVariant.count({ where: { experimentSlug: RESULTS_DEMO_SLUG } }),
    );
    for (const part of parts) expect(subjects(part)).toBeGreaterThan(900);
    expect(subjects(parts.flat())).toBe(subjects(whole));
    for (const exposedOnly of [true, false]) {
      expectSameAnalysis(
        fromSubjectGroups(parts.flat(), plan.events, exposedOnly, cuped),
        fromSubjectGroups(whole, plan.events, exposedOnly, cuped),
      );
    }
    // Through the service, its parts at once, each on a connection of the pool.
    if (kind === "postgres") {
      const parallel = new ResultsService(test.db, (name) => services.admin.get(name), { parallelism: 3 });
      for (const population of ["exposed", "assigned"] as const) {
        const inParts = await parallel.results(RESULTS_DEMO_SLUG, { population });
        const inOne = await services.results.results(RESULTS_DEMO_SLUG, { population });
        expect(inParts.source).toBe("events");
        expectSameAnalysis(inParts.analysis, inOne.analysis);
        expectSameAnalysis(inParts.series, inOne.series);
      }
    }
  });
});
