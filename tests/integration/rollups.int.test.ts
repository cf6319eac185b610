import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Prisma } from "@/generated/prisma/client";
import { rebuildOneOutdated, rebuildRollups, scheduleRollups } from "@/server/events/rollup-jobs";
import { FLAGGED_KEY, refreshRollups, takeRollupLock } from "@/server/events/rollups";
import { createTestDatabase, type DatabaseKind, databaseKinds, type TestDatabase } from "./databases";

const SLUG = "rollup-test";
const day1 = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour));
const day2 = (hour: number) => new Date(Date.UTC(2026, 10, 21, hour));
const day3 = (hour: number) => new Date(Date.UTC(2026, 10, 22, hour));
let key = 0;

type Ids = { visitorId?: string; userId?: string; teamId?: string };

function conversion(
  ids: Ids,
  variant: string,
  occurredAt: Date,
  properties: Prisma.InputJsonObject,
  slug = SLUG,
) {
  key += 1;
  return {
    name: "experiment_conversion",
    occurredAt,
    ...ids,
    experimentSlug: slug,
    variant,
    phase: 1,
    properties,
    source: "BROWSER" as const,
    idempotencyKey: `rollup:${key}`,
  };
}

function assignment(
  ids: Ids,
  variant: string,
  assignedAt: Date,
  firstExposedAt: Date | null,
  slug = SLUG,
): Prisma.ExperimentVariantCreateManyInput {
  return {
    experimentSlug: slug,
    variant,
    ...ids,
    assignmentType: "DETERMINISTIC",
    assignedAt,
    firstExposedAt,
  };
}

const signup = { conversion_event: "signup" };
const purchase = (value: number | string) => ({ conversion_event: "purchase", value, currency: "EUR" });

/** A migrated database holding the visitor-scoped experiment SLUG. */
async function databaseWithExperiment(kind: DatabaseKind): Promise<TestDatabase> {
  const test = await createTestDatabase(kind);
  await test.db.feature.create({ data: { slug: SLUG, type: "EXPERIMENT", metadata: { scope: "visitor" } } });
  return test;
}

describe.each(databaseKinds())("daily rollups on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await databaseWithExperiment(kind);
    await test.db.experimentVariant.createMany({
      data: [
        assignment({ visitorId: "a" }, "control", day1(8), day1(9)),
        assignment({ visitorId: "b" }, "control", day1(8), day1(10)),
        // Assigned but never exposed: counts for intent-to-treat only.
        assignment({ visitorId: "u" }, "control", day1(8), null),
        assignment({ visitorId: "c" }, "treatment", day1(8), day1(11)),
        // Exposed a day after assignment, and after their first purchase.
        assignment({ visitorId: "d" }, "treatment", day1(8), day2(9)),
      ],
    });
    await test.db.event.createMany({
      data: [
        // a converts twice on day 1 and again on day 2: one converter, three conversions. The day-2
        // event also names a signed-in user: still visitor a in a visitor-scoped test.
        conversion({ visitorId: "a" }, "control", day1(12), signup),
        conversion({ visitorId: "a" }, "control", day1(13), signup),
        conversion({ visitorId: "a", userId: "user-a" }, "control", day2(8), signup),
        conversion({ visitorId: "u" }, "control", day1(14), signup),
        conversion({ visitorId: "u" }, "control", day2(12), purchase(100)),
        // An event that names the wrong variant still counts for the variant b was assigned.
        conversion({ visitorId: "b" }, "treatment", day2(9), signup),
        conversion({ visitorId: "c" }, "treatment", day2(10), purchase(49.5)),
        conversion({ visitorId: "c" }, "treatment", day3(10), purchase(10)),
        conversion({ visitorId: "d" }, "treatment", day1(20), purchase("20.5")),
        // Nobody assigned: not a subject of the test.
        conversion({ visitorId: "stranger" }, "control", day1(15), signup),
      ],
    });
  });
  afterAll(async () => {
    await test?.drop();
  });

  const rows = (slug = SLUG) =>
    test.db.experimentRollupDaily.findMany({
      where: { experimentSlug: slug },
      orderBy: [{ day: "asc" }, { variant: "asc" }],
    });
  const byDay = async (slug = SLUG) =>
    new Map((await rows(slug)).map((row) => [`${row.day.toISOString().slice(0, 10)}:${row.variant}`, row]));
  const emptyPurchase = { exposedRevenue: 0, exposedRevenueSquares: 0 };

  it("splits the ledger's subjects by day: assigned, exposed, converters all and exposed, revenue", async () => {
    expect(await refreshRollups(test.db)).toBe(5);
    const summary = (await rows()).map((row) => ({
      day: row.day.toISOString().slice(0, 10),
      variant: row.variant,
      assignments: row.assignments,
      exposures: row.exposures,
      conversions: row.conversions,
      revenue: row.revenue,
    }));
    expect(summary).toEqual([
      {
        day: "2026-11-20",
        variant: "control",
        assignments: 3,
        exposures: 2,
        // u converted but was never exposed: a converter, not an exposed one.
        conversions: { signup: { count: 3, converters: 2, exposedConverters: 1 } },
        revenue: 0,
      },
      {
        day: "2026-11-20",
        variant: "treatment",
        assignments: 2,
        exposures: 1,
        // d bought before being exposed: an exposed purchaser only from the exposure day.
        conversions: { purchase: { count: 1, converters: 1, exposedConverters: 0, ...emptyPurchase } },
        revenue: 20.5,
      },
      {
        day: "2026-11-21",
        variant: "control",
        assignments: 0,
        exposures: 0,
        conversions: {
          signup: { count: 2, converters: 1, exposedConverters: 1 },
          purchase: { count: 1, converters: 1, exposedConverters: 0, ...emptyPurchase },
        },
        revenue: 100,
      },
      {
        day: "2026-11-21",
        variant: "treatment",
        assignments: 0,
        exposures: 1,
        conversions: {
          purchase: {
            count: 1,
            converters: 1,
            exposedConverters: 2,
            exposedRevenue: 70,
            exposedRevenueSquares: 49.5 ** 2 + 20.5 ** 2,
          },
        },
        revenue: 49.5,
      },
      {
        day: "2026-11-22",
        variant: "treatment",
        assignments: 0,
        exposures: 0,
        conversions: {
          purchase: {
            count: 1,
            converters: 0,
            exposedConverters: 0,
            exposedRevenue: 10,
            exposedRevenueSquares: 59.5 ** 2 - 49.5 ** 2,
          },
        },
        revenue: 10,
      },
    ]);
  });

  it("adds revenue squares up to each subject's total squared, across days", async () => {
    const byKey = await byDay();
    const squares = (variant: string) =>
      [...byKey.values()]
        .filter((row) => row.variant === variant)
        .reduce((sum, row) => sum + row.revenueSquares, 0);
    // c bought 49.5 and then 10 (59.5 in all), d bought 20.5; u (control) bought 100.
    expect(squares("treatment")).toBeCloseTo(59.5 ** 2 + 20.5 ** 2, 9);
    expect(squares("control")).toBeCloseTo(100 ** 2, 9);
    expect(byKey.get("2026-11-20:treatment")?.revenueSquares).toBeCloseTo(20.5 ** 2, 9);
  });

  it("counts flagged subjects by day assigned, recounted on every refresh", async () => {
    const flagged = async () =>
      Object.fromEntries(
        [...(await byDay()).entries()]
          .map(([day, row]) => [day, (row.conversions as Record<string, unknown>)[FLAGGED_KEY]] as const)
          .filter(([, value]) => value !== undefined),
      );
    expect(await flagged()).toEqual({});
    await test.db.experimentVariant.updateMany({
      where: { experimentSlug: SLUG, visitorId: { in: ["a", "c"] } },
      data: { metadata: { seenInOtherVariant: "other", flaggedAt: day3(12).toISOString() } },
    });
    // Only day 3 is rewritten, yet the day-1 assignments' flags land on day 1.
    const before = await rows();
    await refreshRollups(test.db, day3(0));
    expect(await flagged()).toEqual({ "2026-11-20:control": 1, "2026-11-20:treatment": 1 });
    // Flagged again later: still one subject each, not a second count on a later day.
    await test.db.experimentVariant.updateMany({
      where: { experimentSlug: SLUG, visitorId: "a" },
      data: { metadata: { seenInOtherVariant: "other", flaggedAt: day3(18).toISOString() } },
    });
    await refreshRollups(test.db, day3(0));
    expect(await flagged()).toEqual({ "2026-11-20:control": 1, "2026-11-20:treatment": 1 });
    await test.db.experimentVariant.updateMany({
      where: { experimentSlug: SLUG, visitorId: "c" },
      data: { metadata: {} },
    });
    await refreshRollups(test.db, day3(0));
    expect(await flagged()).toEqual({ "2026-11-20:control": 1 });
    // Everything else on the older days is as it was.
    const strip = (list: typeof before) =>
      list
        .filter((row) => row.day < day3(0))
        .map(({ updatedAt: _, conversions, ...row }) => ({
          ...row,
          conversions: Object.fromEntries(
            Object.entries(conversions as Record<string, unknown>).filter(([name]) => name !== FLAGGED_KEY),
          ),
        }));
    expect(strip(await rows())).toEqual(strip(before));
  });

  it("keys subjects by the experiment's scope: a team converts once, whoever in it converted", async () => {
    const slug = "rollup-team-test";
    await test.db.feature.create({ data: { slug, type: "EXPERIMENT", metadata: { scope: "team" } } });
    await test.db.experimentVariant.createMany({
      data: [
        assignment({ teamId: "team-1" }, "control", day1(8), day1(9), slug),
        assignment({ teamId: "team-2" }, "treatment", day1(8), day1(9), slug),
      ],
    });
    await test.db.event.createMany({
      data: [
        conversion(
          { teamId: "team-1", userId: "alice", visitorId: "v-alice" },
          "control",
          day1(10),
          signup,
          slug,
        ),
        conversion(
          { teamId: "team-1", userId: "bob", visitorId: "v-bob" },
          "control",
          day1(11),
          signup,
          slug,
        ),
        conversion({ teamId: "team-2", userId: "carol" }, "treatment", day1(12), purchase(30), slug),
        conversion({ teamId: "team-2", userId: "dave" }, "treatment", day1(13), purchase(20), slug),
      ],
    });
    await refreshRollups(test.db, undefined, slug);
    const byKey = await byDay(slug);
    expect(byKey.get("2026-11-20:control")?.conversions).toEqual({
      signup: { count: 2, converters: 1, exposedConverters: 1 },
    });
    const treatment = byKey.get("2026-11-20:treatment");
    expect(treatment?.conversions).toMatchObject({
      purchase: { count: 2, converters: 1, exposedConverters: 1, exposedRevenue: 50 },
    });
    // One team's 50, squared once: not 30² + 20² as two people.
    expect(treatment?.revenueSquares).toBeCloseTo(50 ** 2, 9);
  });

  it("refreshing one experiment leaves the others' rows alone", async () => {
    const before = await rows();
    await test.db.experimentVariant.create({
      data: assignment({ visitorId: "late" }, "control", day1(19), day1(20)),
    });
    await refreshRollups(test.db, undefined, "another-experiment");
    expect(await rows()).toEqual(before);
    await refreshRollups(test.db, undefined, SLUG);
    const after = await rows();
    const firstDay = (list: typeof before) =>
      list.find((row) => row.day < day2(0) && row.variant === "control");
    expect(firstDay(after)?.exposures).toBe((firstDay(before)?.exposures ?? 0) + 1);
    expect(firstDay(after)?.assignments).toBe((firstDay(before)?.assignments ?? 0) + 1);
  });

  it("stamps every experiment a refresh covered with its start, in its transaction; flags get none", async () => {
    await test.db.feature.create({ data: { slug: "rollup-stamp-flag", type: "FLAG" } });
    await test.db.feature.create({
      data: { slug: "rollup-stamp-other", type: "EXPERIMENT", metadata: { scope: "visitor" } },
    });
    const stamps = async () =>
      new Map(
        (await test.db.experimentRollupRefresh.findMany()).map((row) => [
          row.experimentSlug,
          row.refreshedAt.getTime(),
        ]),
      );
    await test.db.experimentRollupRefresh.deleteMany();

    await refreshRollups(test.db, undefined, SLUG);
    const one = await stamps();
    expect([...one.keys()]).toEqual([SLUG]);

    await refreshRollups(test.db, day3(0));
    const all = await stamps();
    const experiments = await test.db.feature.findMany({
      where: { type: "EXPERIMENT" },
      select: { slug: true },
    });
    expect([...all.keys()].sort()).toEqual(experiments.map((feature) => feature.slug).sort());
    expect(all.has("rollup-stamp-other")).toBe(true);
    expect(all.has("rollup-stamp-flag")).toBe(false);
    // One refresh, one moment (its transaction's start), later than the one before.
    expect(new Set(all.values()).size).toBe(1);
    expect(all.get(SLUG)).toBeGreaterThanOrEqual(one.get(SLUG) ?? Number.POSITIVE_INFINITY);

    // A deleted experiment's stamp goes with it.
    await test.db.feature.delete({ where: { slug: "rollup-stamp-other" } });
    expect((await stamps()).has("rollup-stamp-other")).toBe(false);
  });

  it("keeps CUPED's sums: Σx, Σx² on the day of exposure, Σx·y on the days exposed revenue grows", async () => {
    const slug = "rollup-cuped";
    await test.db.feature.create({ data: { slug, type: "EXPERIMENT", metadata: { scope: "visitor" } } });
    await test.db.experimentVariant.createMany({
      data: [
        assignment({ visitorId: "x1" }, "control", day1(8), day1(10), slug),
        assignment({ visitorId: "x2" }, "control", day2(8), day2(10), slug),
        // Never exposed: outside the exposure-based analysis CUPED serves.
        assignment({ visitorId: "x3" }, "treatment", day1(8), null, slug),
        // Exposed without a history: x = 0.
        assignment({ visitorId: "x4" }, "treatment", day1(8), day1(12), slug),
      ],
    });
    const history = (visitorId: string, occurredAt: Date, value: number | string) => {
      key += 1;
      return {
        name: "purchase",
        occurredAt,
        visitorId,
        properties: { value, currency: "EUR" },
        source: "SERVER" as const,
        idempotencyKey: `rollup:${key}`,
      };
    };
    await test.db.event.createMany({
      data: [
        history("x1", day1(8), 30), // x1 = 30: in the 30 days before exposure
        history("x1", new Date(day1(10).getTime() - 31 * 86_400_000), 5), // too early
        history("x2", day2(9), "12"), // x2 = 12, a decimal string as Shopify sends it
        history("x2", day2(11), 7), // after exposure: revenue's, not the covariate's
        history("x3", day1(7), 50), // never exposed
        conversion({ visitorId: "x1" }, "control", day2(9), purchase(20), slug),
        conversion({ visitorId: "x1" }, "control", day3(9), purchase(10), slug),
      ],
    });
    await refreshRollups(test.db, undefined, slug);
    const sums = async () =>
      (await rows(slug)).map((row) => ({
        day: row.day.toISOString().slice(0, 10),
        variant: row.variant,
        x: row.covariateSum,
        xx: row.covariateSquares,
        xy: row.covariateCross,
        withHistory: row.withHistory,
      }));
    const full = await sums();
    expect(full).toEqual([
      { day: "2026-11-20", variant: "control", x: 30, xx: 900, xy: 0, withHistory: 1 },
      { day: "2026-11-20", variant: "treatment", x: 0, xx: 0, xy: 0, withHistory: 0 },
      { day: "2026-11-21", variant: "control", x: 12, xx: 144, xy: 30 * 20, withHistory: 1 },
      { day: "2026-11-22", variant: "control", x: 0, xx: 0, xy: 30 * 10, withHistory: 0 },
    ]);
    // Refreshing the last day alone leaves the same sums: they land on the days they change.
    await refreshRollups(test.db, day3(0), slug);
    expect(await sums()).toEqual(full);
    await refreshRollups(test.db, day2(0), slug);
    expect(await sums()).toEqual(full);
  });

  it("refreshing recent days rewrites only them, with the same exact totals", async () => {
    const before = await rows();
    await test.db.experimentVariant.create({
      data: assignment({ visitorId: "e" }, "control", day2(14), day2(15)),
    });
    await refreshRollups(test.db, day2(0));
    const after = await rows();
    expect(after.filter((row) => row.day < day2(0))).toEqual(before.filter((row) => row.day < day2(0)));
    const secondDay = after.find(
      (row) => row.day >= day2(0) && row.day < day3(0) && row.variant === "control",
    );
    expect(secondDay?.exposures).toBe(1);
    expect(secondDay?.assignments).toBe(1);
    // The totals match a full rebuild's.
    await refreshRollups(test.db);
    expect((await rows()).map(({ updatedAt: _, ...row }) => row)).toEqual(
      after.map(({ updatedAt: _, ...row }) => row),
    );
  });

  it("rereads whole histories of the subjects a partial refresh touches, and only theirs", async () => {
    const strip = (list: Awaited<ReturnType<typeof rows>>) => list.map(({ updatedAt: _, ...row }) => row);
    const rebuilt = strip(await rows());
    // From day 3, only c bought (10, after 49.5 on day 2): its revenue square so far, its second
    // purchase not a second first. Everyone else's rows before day 3 must stay as they are.
    await refreshRollups(test.db, day3(0));
    expect(strip(await rows())).toEqual(rebuilt);
    // A late exposure touches a subject with no new event: f converted on day 1, exposed on day 3.
    await test.db.experimentVariant.create({
      data: assignment({ visitorId: "f" }, "treatment", day1(8), day3(9)),
    });
    await test.db.event.create({ data: conversion({ visitorId: "f" }, "treatment", day1(21), signup) });
    await refreshRollups(test.db, day3(0));
    const partial = strip(await rows());
    const third = partial.find((row) => row.day >= day3(0) && row.variant === "treatment");
    expect(third?.conversions).toMatchObject({ signup: { count: 0, converters: 0, exposedConverters: 1 } });
    await refreshRollups(test.db);
    // Day 1's figures for f (its assignment and conversion) need the full rebuild; from day 3 on,
    // the partial refresh already agreed with it.
    expect(strip(await rows()).filter((row) => row.day >= day3(0))).toEqual(
      partial.filter((row) => row.day >= day3(0)),
    );
  });

  it("rebuilds, one per call, the experiments whose rows predate CUPED's sums (an upgrade)", async () => {
    await refreshRollups(test.db);
    const withRows = await test.db.experimentRollupDaily.findMany({
      distinct: ["experimentSlug"],
      select: { experimentSlug: true },
      orderBy: { experimentSlug: "asc" },
    });
    expect(withRows.length).toBeGreaterThan(1);
    // As after the upgrade that added the sums: the stamps say no refresh has rewritten every row.
    await test.db.experimentRollupRefresh.updateMany({ data: { rebuiltAt: null } });
    const zeroed = await test.db.experimentRollupDaily.updateMany({
      data: { covariateSum: 0, covariateSquares: 0, covariateCross: 0, withHistory: 0 },
    });
    expect(zeroed.count).toBeGreaterThan(0);
    const rebuilt: string[] = [];
    for (let slug = await rebuildOneOutdated(test.db); slug; slug = await rebuildOneOutdated(test.db)) {
      rebuilt.push(slug);
      const stamp = await test.db.experimentRollupRefresh.findUnique({ where: { experimentSlug: slug } });
      expect(stamp?.rebuiltAt).toEqual(stamp?.refreshedAt);
    }
    expect(rebuilt).toEqual(withRows.map((row) => row.experimentSlug));
    // Rebuilt, the CUPED test's sums are back.
    const cuped = await test.db.experimentRollupDaily.aggregate({
      where: { experimentSlug: "rollup-cuped" },
      _sum: { covariateSum: true, covariateCross: true },
    });
    expect(cuped._sum).toEqual({ covariateSum: 42, covariateCross: 900 });
  });

  it("on a schedule, refreshes the last two days, and vacuums and analyzes first where asked (PGlite has no autovacuum)", async () => {
    const maintenance = async () => {
      const [row] = await test.db.$queryRaw<{ vacuums: bigint; analyses: bigint }[]>`
        select vacuum_count as vacuums, analyze_count as analyses
        from pg_stat_user_tables where relname = 'Event'`;
      return { vacuums: Number(row?.vacuums ?? 0), analyses: Number(row?.analyses ?? 0) };
    };
    const now = new Date();
    const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    await test.db.experimentVariant.create({
      data: assignment({ visitorId: "today" }, "control", now, null),
    });
    const before = await maintenance();

    await scheduleRollups(test.db, { everyMs: 3_600_000 })();
    const todays = (await rows()).filter((row) => row.day.getTime() === today.getTime());
    expect(todays.map((row) => [row.variant, row.assignments])).toEqual([["control", 1]]);
    expect(await maintenance()).toEqual(before);

    await scheduleRollups(test.db, { everyMs: 3_600_000, maintain: true })();
    expect(await maintenance()).toEqual({ vacuums: before.vacuums + 1, analyses: before.analyses + 1 });
  });

  it("rebuilds one experiment per transaction to what one rebuild of all writes, and drops the rows of experiments with no assignments", async () => {
    const strip = <Row extends { updatedAt: Date }>(list: Row[]) =>
      list.map(({ updatedAt: _, ...row }) => row);
    const everything = () =>
      test.db.experimentRollupDaily.findMany({
        orderBy: [{ experimentSlug: "asc" }, { day: "asc" }, { variant: "asc" }],
      });
    await refreshRollups(test.db);
    const inOneTransaction = strip(await everything());
    expect(new Set(inOneTransaction.map((row) => row.experimentSlug)).size).toBeGreaterThan(1);
    // A deleted experiment's leftovers, and a day of a live one that lost its assignments.
    await test.db.experimentRollupDaily.createMany({
      data: [
        { day: day1(0), experimentSlug: "deleted-experiment", phase: 1, variant: "control", assignments: 7 },
        { day: day1(0), experimentSlug: SLUG, phase: 1, variant: "gone", assignments: 3 },
      ],
    });
    const progress: { done: number; total: number; slug: string | null }[] = [];
    const rebuilt = await rebuildRollups(test.db, (step) => progress.push(step));

    expect(strip(await everything())).toEqual(inOneTransaction);
    expect(rebuilt).toEqual({
      experiments: new Set(inOneTransaction.map((row) => row.experimentSlug)).size,
      rows: inOneTransaction.length,
    });
    const slugs = [...new Set(inOneTransaction.map((row) => row.experimentSlug))];
    expect(progress).toEqual([
      { done: 0, total: slugs.length, slug: null },
      ...slugs.map((slug, index) => ({ done: index + 1, total: slugs.length, slug })),
    ]);
  });
});

// Two transactions at once need two connections: the embedded PGlite has one.
describe.each(databaseKinds().filter((kind) => kind === "postgres"))(
  "rollup jobs beside each other on %s",
  (kind) => {
    let test: TestDatabase;
    beforeAll(async () => {
      test = await databaseWithExperiment(kind);
      await test.db.experimentVariant.create({
        data: assignment({ visitorId: "a" }, "control", day1(8), day1(9)),
      });
    });
    afterAll(async () => {
      await test?.drop();
    });

    it("a scheduled refresh skips while another holds the lock; a rebuild waits for it and then runs", async () => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let signalLocked = () => {};
      const locked = new Promise<void>((resolve) => {
        signalLocked = resolve;
      });
      const holder = test.db.$transaction(
        async (tx) => {
          expect(await takeRollupLock(tx, false)).toBe(true);
          signalLocked();
          await released;
        },
        { timeout: 30_000 },
      );
      await locked;

      expect(await refreshRollups(test.db, day1(0))).toBeNull();
      // The skipped refresh claims nothing: no stamp until a refresh has written the rows.
      expect(await test.db.experimentRollupRefresh.count()).toBe(0);
      let settled = false;
      const rebuild = rebuildRollups(test.db).finally(() => {
        settled = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(settled).toBe(false);
      expect(await test.db.experimentRollupDaily.count()).toBe(0);

      release();
      await holder;
      expect(await rebuild).toEqual({ experiments: 1, rows: 1 });
      expect(await test.db.experimentRollupDaily.count()).toBe(1);
      expect(await test.db.experimentRollupRefresh.findMany({ select: { experimentSlug: true } })).toEqual([
        { experimentSlug: SLUG },
      ]);
    });
  },
);
