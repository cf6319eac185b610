import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Prisma } from "@/generated/prisma/client";
import { refreshRollups } from "@/server/events/rollups";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./databases";

const day1 = (hour: number) => new Date(Date.UTC(2026, 10, 20, hour));
const day2 = (hour: number) => new Date(Date.UTC(2026, 10, 21, hour));
let key = 0;

function event(
  name: "experiment_viewed" | "experiment_conversion",
  visitorId: string,
  variant: string,
  occurredAt: Date,
  properties: Prisma.InputJsonObject = {},
) {
  key += 1;
  return {
    name,
    occurredAt,
    visitorId,
    experimentSlug: "rollup-test",
    variant,
    phase: 1,
    properties,
    source: "BROWSER" as const,
    idempotencyKey: `rollup:${key}`,
  };
}

describe.each(databaseKinds())("daily rollups on %s", (kind) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(kind);
    await test.db.event.createMany({
      data: [
        event("experiment_viewed", "a", "control", day1(9)),
        event("experiment_viewed", "b", "control", day1(10)),
        event("experiment_viewed", "c", "treatment", day1(11)),
        event("experiment_viewed", "d", "treatment", day2(9)),
        // a converts twice on day 1 and again on day 2: one converter, three conversions.
        event("experiment_conversion", "a", "control", day1(12), { conversion_event: "signup" }),
        event("experiment_conversion", "a", "control", day1(13), { conversion_event: "signup" }),
        event("experiment_conversion", "a", "control", day2(8), { conversion_event: "signup" }),
        event("experiment_conversion", "c", "treatment", day2(10), {
          conversion_event: "purchase",
          value: 49.5,
          currency: "EUR",
        }),
        event("experiment_conversion", "d", "treatment", day2(11), {
          conversion_event: "purchase",
          value: "20.5",
          currency: "EUR",
        }),
      ],
    });
  });
  afterAll(async () => {
    await test?.drop();
  });

  const rows = () =>
    test.db.experimentRollupDaily.findMany({
      where: { experimentSlug: "rollup-test" },
      orderBy: [{ day: "asc" }, { variant: "asc" }],
    });

  it("adds up exposures, conversions, unique converters and revenue per day and variant", async () => {
    expect(await refreshRollups(test.db)).toBe(4);
    const summary = (await rows()).map((row) => ({
      day: row.day.toISOString().slice(0, 10),
      variant: row.variant,
      exposures: row.exposures,
      conversions: row.conversions,
      revenue: row.revenue,
    }));
    expect(summary).toEqual([
      {
        day: "2026-11-20",
        variant: "control",
        exposures: 2,
        conversions: { signup: { count: 2, converters: 1 } },
        revenue: 0,
      },
      { day: "2026-11-20", variant: "treatment", exposures: 1, conversions: {}, revenue: 0 },
      {
        day: "2026-11-21",
        variant: "control",
        exposures: 0,
        conversions: { signup: { count: 1, converters: 0 } },
        revenue: 0,
      },
      {
        day: "2026-11-21",
        variant: "treatment",
        exposures: 1,
        conversions: { purchase: { count: 2, converters: 2 } },
        revenue: 70,
      },
    ]);
  });

  it("counts assignments per day and the squares of each subject's daily revenue", async () => {
    await test.db.feature.create({ data: { slug: "rollup-test", type: "EXPERIMENT" } });
    await test.db.experimentVariant.createMany({
      data: ["a", "b", "c"].map((visitorId, index) => ({
        experimentSlug: "rollup-test",
        variant: index < 2 ? "control" : "treatment",
        visitorId,
        assignmentType: "DETERMINISTIC" as const,
        assignedAt: day1(8),
      })),
    });
    await refreshRollups(test.db);
    const byKey = new Map(
      (await rows()).map((row) => [`${row.day.toISOString().slice(0, 10)}:${row.variant}`, row]),
    );
    expect([...byKey.keys()]).toContain("2026-11-20:control");
    expect(byKey.get("2026-11-20:control")?.assignments).toBe(2);
    expect(byKey.get("2026-11-20:treatment")?.assignments).toBe(1);
    // c bought 49.5 and d 20.5 on the 21st: 49.5² + 20.5².
    expect(byKey.get("2026-11-21:treatment")?.revenueSquares).toBeCloseTo(49.5 ** 2 + 20.5 ** 2, 9);
    expect(byKey.get("2026-11-21:treatment")?.assignments).toBe(0);
  });

  it("refreshing one experiment leaves the others' rows alone", async () => {
    const before = await rows();
    await test.db.event.create({ data: event("experiment_viewed", "late", "control", day1(20)) });
    await refreshRollups(test.db, undefined, "another-experiment");
    expect(await rows()).toEqual(before);
    await refreshRollups(test.db, undefined, "rollup-test");
    const after = await rows();
    expect(after.find((row) => row.day < day2(0) && row.variant === "control")?.exposures).toBe(
      (before.find((row) => row.day < day2(0) && row.variant === "control")?.exposures ?? 0) + 1,
    );
  });

  it("refreshing recent days rewrites only them, with the same exact totals", async () => {
    const before = await rows();
    await test.db.event.create({ data: event("experiment_viewed", "e", "control", day2(15)) });
    await refreshRollups(test.db, day2(0));
    const after = await rows();
    expect(after.filter((row) => row.day < day2(0))).toEqual(before.filter((row) => row.day < day2(0)));
    expect(after.find((row) => row.day >= day2(0) && row.variant === "control")?.exposures).toBe(1);
  });
});
