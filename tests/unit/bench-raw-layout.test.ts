import { describe, expect, it } from "vitest";
import type { SubjectGroup } from "@/features/experiments/server/results-queries";
import { addGroups } from "../../bench/lib/raw-layout";

const group = (overrides: Partial<SubjectGroup>): SubjectGroup => ({
  variant: "control",
  exposedDay: "2026-12-01",
  convertedDay: null,
  subjects: 1,
  flagged: 0,
  converters: [1, 0],
  revenue: 10,
  revenueSquares: 100,
  sumX: 2,
  sumXX: 4,
  sumXY: 20,
  withHistory: 1,
  ...overrides,
});

describe("addGroups", () => {
  it("adds up the halves' groups that share variant and days, and keeps the others apart", () => {
    const lower = [group({}), group({ variant: "treatment", subjects: 3 })];
    const upper = [
      group({ subjects: 2, flagged: 1, converters: [0, 2], revenue: 5, revenueSquares: 25, withHistory: 0 }),
      group({ convertedDay: "2026-12-02" }),
      group({ exposedDay: null }),
    ];
    const sums = addGroups([lower, upper]);
    expect(sums).toHaveLength(4);
    expect(sums[0]).toEqual(
      group({
        subjects: 3,
        flagged: 1,
        converters: [1, 2],
        revenue: 15,
        revenueSquares: 125,
        sumX: 4,
        sumXX: 8,
        sumXY: 40,
      }),
    );
    expect(sums.map((sum) => [sum.variant, sum.exposedDay, sum.convertedDay, sum.subjects])).toEqual([
      ["control", "2026-12-01", null, 3],
      ["treatment", "2026-12-01", null, 3],
      ["control", "2026-12-01", "2026-12-02", 1],
      ["control", null, null, 1],
    ]);
    // The inputs are left as they were.
    expect(lower[0]).toEqual(group({}));
  });
});
