import { describe, expect, it } from "vitest";
import { assignVariant, type HashingMode } from "@/features/experiments/core";

/** Chi-square critical values at p = 0.001 for 1, 2 and 4 degrees of freedom. */
const CRITICAL_AT_P_0_001: Record<number, number> = { 1: 10.828, 2: 13.816, 4: 18.467 };
const SUBJECTS = 100_000;

function chiSquare(
  counts: Map<string, number>,
  variants: { name: string; percentage: number }[],
  total: number,
) {
  return variants.reduce((sum, variant) => {
    const expected = (total * variant.percentage) / 100;
    const observed = counts.get(variant.name) ?? 0;
    return sum + (observed - expected) ** 2 / expected;
  }, 0);
}

function split(
  slug: string,
  variants: { name: string; percentage: number }[],
  hashing: HashingMode,
  traffic = 100,
) {
  const counts = new Map<string, number>();
  let excluded = 0;
  for (let index = 0; index < SUBJECTS; index++) {
    // Realistic ids: uuid-like strings, not 0..n, to catch hashes that only spread sequential keys.
    const id = `user-${index.toString(36)}-${((index * 2654435761) >>> 0).toString(16)}`;
    const variant = assignVariant({ slug, variants, hashing, trafficPercent: traffic }, id);
    if (variant === null) excluded++;
    else counts.set(variant, (counts.get(variant) ?? 0) + 1);
  }
  return { counts, excluded };
}

const splits: [string, { name: string; percentage: number }[]][] = [
  [
    "2-way 50/50",
    [
      { name: "control", percentage: 50 },
      { name: "treatment", percentage: 50 },
    ],
  ],
  [
    "3-way 20/30/50",
    [
      { name: "control", percentage: 20 },
      { name: "b", percentage: 30 },
      { name: "c", percentage: 50 },
    ],
  ],
  [
    "5-way 40/15/15/15/15",
    [
      { name: "control", percentage: 40 },
      { name: "b", percentage: 15 },
      { name: "c", percentage: 15 },
      { name: "d", percentage: 15 },
      { name: "e", percentage: 15 },
    ],
  ],
];

describe.each<HashingMode>(["growthbook-v2", "posthog"])(
  "distribution of 100,000 subjects (%s)",
  (hashing) => {
    it.each(splits)("%s matches its weights within chi-square p > 0.001", (_name, variants) => {
      const { counts, excluded } = split(`dist-${variants.length}-way`, variants, hashing);
      expect(excluded).toBe(0);
      const statistic = chiSquare(counts, variants, SUBJECTS);
      expect(statistic).toBeLessThan(CRITICAL_AT_P_0_001[variants.length - 1] as number);
    });

    it("enrolls the traffic share and splits it by weight", () => {
      const variants = splits[0]?.[1] ?? [];
      const { counts, excluded } = split("dist-traffic", variants, hashing, 30);
      const enrolled = SUBJECTS - excluded;
      // Enrolled vs excluded against 30/70 is a 1-degree-of-freedom test.
      const expectedEnrolled = SUBJECTS * 0.3;
      const enrolment =
        (enrolled - expectedEnrolled) ** 2 / expectedEnrolled +
        (excluded - (SUBJECTS - expectedEnrolled)) ** 2 / (SUBJECTS - expectedEnrolled);
      expect(enrolment).toBeLessThan(CRITICAL_AT_P_0_001[1] as number);
      expect(chiSquare(counts, variants, enrolled)).toBeLessThan(CRITICAL_AT_P_0_001[1] as number);
    });

    it("a weighted split really is weighted (the test can fail)", () => {
      const even = splits[0]?.[1] ?? [];
      const { counts } = split(
        "dist-skewed",
        [
          { name: "control", percentage: 60 },
          { name: "treatment", percentage: 40 },
        ],
        hashing,
      );
      expect(chiSquare(counts, even, SUBJECTS)).toBeGreaterThan(1000);
    });
  },
);
