import { describe, expect, it } from "vitest";
import {
  adjustedAlpha,
  adjustedInterval,
  adjustPValues,
  type CupedArm,
  cuped,
  cupedEffectTest,
  estimateDuration,
  hasEnoughData,
  MIN_SAMPLE_PER_ARM,
  meanTest,
  sampleSize,
  sequentialHalfWidth,
  sequentialPValue,
  sequentialRho,
  srmTest,
} from "@/features/experiments/core";

describe("sampleSize and estimateDuration", () => {
  it("needs more participants for smaller effects, lower alpha and higher power", () => {
    const base = sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1 }).perVariant;
    expect(sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.05 }).perVariant).toBeGreaterThan(base);
    expect(
      sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1, alpha: 0.01 }).perVariant,
    ).toBeGreaterThan(base);
    expect(
      sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1, power: 0.9 }).perVariant,
    ).toBeGreaterThan(base);
    expect(sampleSize({ baselineRate: 0.1, minDetectableEffect: -0.1 }).perVariant).toBeGreaterThan(0);
  });

  it("refuses inputs with no answer", () => {
    expect(() => sampleSize({ baselineRate: 0, minDetectableEffect: 0.1 })).toThrow(RangeError);
    expect(() => sampleSize({ baselineRate: 0.1, minDetectableEffect: 0 })).toThrow(RangeError);
    expect(() => sampleSize({ baselineRate: 0.6, minDetectableEffect: 1 })).toThrow(RangeError);
    expect(() => sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1, power: 1 })).toThrow(RangeError);
  });

  it("counts the days left from daily traffic", () => {
    expect(estimateDuration({ perVariant: 14751, variants: 2, dailyTraffic: 1000 })).toEqual({
      totalNeeded: 29502,
      remaining: 29502,
      days: 30,
    });
    expect(estimateDuration({ perVariant: 1000, variants: 3, dailyTraffic: 250, enrolled: 2000 })).toEqual({
      totalNeeded: 3000,
      remaining: 1000,
      days: 4,
    });
    expect(estimateDuration({ perVariant: 1000, variants: 2, dailyTraffic: 0, enrolled: 2500 }).days).toBe(0);
    expect(estimateDuration({ perVariant: 1000, variants: 2, dailyTraffic: 0 }).days).toBeNull();
  });

  it("estimates the duration from daily traffic when given, keeping perVariant and exact", () => {
    const plain = sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1 });
    expect(plain.perVariant).toBe(14751);
    expect(plain.duration).toBeNull();
    const planned = sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1, dailyTraffic: 1000 });
    expect(planned.perVariant).toBe(plain.perVariant);
    expect(planned.exact).toBe(plain.exact);
    // Two arms by default: 2 × 14751 = 29502 participants at 1000 a day.
    expect(planned.duration).toEqual({ totalNeeded: 29502, remaining: 29502, days: 30 });
    const threeArms = sampleSize({
      baselineRate: 0.1,
      minDetectableEffect: 0.1,
      dailyTraffic: 1000,
      variants: 3,
      enrolled: 20_000,
    });
    expect(threeArms.duration).toEqual(
      estimateDuration({ perVariant: 14751, variants: 3, dailyTraffic: 1000, enrolled: 20_000 }),
    );
    expect(threeArms.duration?.days).toBe(25);
    expect(
      sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1, dailyTraffic: 0 }).duration?.days,
    ).toBeNull();
    expect(() => sampleSize({ baselineRate: 0.1, minDetectableEffect: 0.1, dailyTraffic: -5 })).toThrow(
      RangeError,
    );
  });

  it("shows 'too little data' below the minimum sample", () => {
    expect(MIN_SAMPLE_PER_ARM).toBeGreaterThan(0);
    expect(hasEnoughData([{ n: MIN_SAMPLE_PER_ARM }, { n: MIN_SAMPLE_PER_ARM }])).toBe(true);
    expect(hasEnoughData([{ n: MIN_SAMPLE_PER_ARM - 1 }, { n: 10_000 }])).toBe(false);
    expect(hasEnoughData([{ n: 10_000 }])).toBe(false);
    expect(
      hasEnoughData([
        { n: 10_000, conversions: 0 },
        { n: 10_000, conversions: 2 },
      ]),
    ).toBe(false);
    expect(
      hasEnoughData([
        { n: 10_000, conversions: 0 },
        { n: 10_000, conversions: 30 },
      ]),
    ).toBe(true);
  });
});

describe("srmTest beyond the vectors", () => {
  it("flags a clearly broken split and keeps tiny p-values exact", () => {
    const result = srmTest([10_000, 12_000], [1, 1]);
    expect(result.mismatch).toBe(true);
    expect(result.pValue).toBeGreaterThan(0);
    expect(result.pValue).toBeLessThan(1e-40);
  });

  it("ignores weight-0 arms and has nothing to test without two arms or with no one observed", () => {
    expect(srmTest([1000, 1050, 5000], [1, 1, 0]).pValue).toBeCloseTo(
      srmTest([1000, 1050], [1, 1]).pValue,
      14,
    );
    expect(srmTest([0, 0], [1, 1])).toEqual({ chiSquare: 0, pValue: 1, mismatch: false });
    expect(srmTest([500], [1])).toEqual({ chiSquare: 0, pValue: 1, mismatch: false });
    expect(() => srmTest([1, 2], [1, -1])).toThrow(RangeError);
  });
});

describe("multiple-testing corrections", () => {
  const samples = [
    [0.01, 0.04, 0.03, 0.005, 0.55, 0.6],
    [0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138],
    [0.0001, 0.2, 0.049, 0.051, 1, 0],
    [0.3],
  ];

  it("adjusted p-values are at least the raw ones, capped at 1, and keep the raw order", () => {
    for (const raw of samples) {
      for (const method of ["holm", "benjamini-hochberg"] as const) {
        const adjusted = adjustPValues(raw, method);
        adjusted.forEach((p, i) => {
          expect(p).toBeGreaterThanOrEqual(raw[i] as number);
          expect(p).toBeLessThanOrEqual(1);
          adjusted.forEach((q, j) => {
            if ((raw[i] as number) < (raw[j] as number)) expect(p).toBeLessThanOrEqual(q);
          });
        });
      }
    }
  });

  it("Holm is never less strict than Benjamini–Hochberg", () => {
    for (const raw of samples) {
      const holm = adjustPValues(raw, "holm");
      const bh = adjustPValues(raw, "benjamini-hochberg");
      holm.forEach((p, i) => {
        expect(p).toBeGreaterThanOrEqual(bh[i] as number);
      });
    }
  });

  it("leaves a single test alone and rejects values outside [0, 1]", () => {
    expect(adjustPValues([0.03], "holm")).toEqual([0.03]);
    expect(adjustPValues([], "benjamini-hochberg")).toEqual([]);
    expect(() => adjustPValues([0.1, 1.2], "holm")).toThrow(RangeError);
    expect(() => adjustPValues([Number.NaN], "holm")).toThrow(RangeError);
  });

  it("adjustedAlpha: Bonferroni level, or Benjamini–Yekutieli's alpha·R/m once rejections are known", () => {
    expect(adjustedAlpha(0.05, 4, "holm")).toBeCloseTo(0.0125, 15);
    expect(adjustedAlpha(0.05, 4, "benjamini-hochberg")).toBeCloseTo(0.0125, 15);
    expect(adjustedAlpha(0.05, 4, "benjamini-hochberg", 2)).toBeCloseTo(0.025, 15);
    expect(adjustedAlpha(0.05, 1, "holm")).toBe(0.05);
    expect(() => adjustedAlpha(0.05, 0, "holm")).toThrow(RangeError);
  });

  it("adjustedInterval widens, never narrows, and opens up when the adjusted p-value is 1", () => {
    const original: [number, number] = [0.02, 0.18];
    const widened = adjustedInterval(0.1, original, 0.2, 0.05);
    expect(widened[0]).toBeLessThan(0);
    expect(widened[1] - widened[0]).toBeGreaterThan(0.16);
    expect(adjustedInterval(0.1, original, 0.0001, 0.05)).toEqual(original);
    expect(adjustedInterval(0.1, original, 1, 0.05)).toEqual([-Infinity, Infinity]);
  });
});

describe("sequential testing helpers", () => {
  it("rho follows GrowthBook's formula and the sequence is tightest near N*", () => {
    const alpha = 0.05;
    expect(sequentialRho(alpha, 5000) ** 2 * 5000).toBeCloseTo(
      -2 * Math.log(alpha) + Math.log(-2 * Math.log(alpha) + 1),
      12,
    );
    // For a fixed per-participant variance, the ratio to the fixed-horizon half-width is smallest near n = N*.
    const ratio = (n: number, tuning: number) =>
      sequentialHalfWidth(1 / Math.sqrt(n), n, alpha, tuning) / (1.959964 / Math.sqrt(n));
    expect(ratio(5000, 5000)).toBeLessThan(ratio(500, 5000));
    expect(ratio(5000, 5000)).toBeLessThan(ratio(500_000, 5000));
    expect(ratio(5000, 5000)).toBeGreaterThan(1);
  });

  it("the always-valid p-value is 1 at no effect, falls with the effect, and never underflows to NaN", () => {
    expect(sequentialPValue(0, 0.1, 1000, 0.05, 5000)).toBe(1);
    expect(sequentialPValue(0.3, 0.1, 1000, 0.05, 5000)).toBeLessThan(
      sequentialPValue(0.2, 0.1, 1000, 0.05, 5000),
    );
    expect(sequentialPValue(1e6, 1e-6, 1e7, 0.05, 5000)).toBe(0);
  });
});

describe("CUPED", () => {
  const correlated = (n: number, mean: number, covariateMean: number): CupedArm => ({
    n,
    mean,
    variance: 4,
    covariateMean,
    covariateVariance: 3,
    covariance: 2.4,
  });

  it("reduces the variance by about ρ² and tightens the interval without moving a balanced lift", () => {
    const input = { control: correlated(5000, 10, 8), treatment: correlated(5000, 10.3, 8) };
    const adjusted = cuped(input);
    // ρ = 2.4/√(4·3) ≈ 0.693, so the reduction is about ρ² ≈ 0.48.
    expect(adjusted.varianceReduction).toBeCloseTo(0.48, 2);
    expect(adjusted.theta).toBeCloseTo(0.8, 3);
    expect(adjusted.treatment.mean).toBeCloseTo(10.3, 12);
    const before = meanTest(input.control, input.treatment);
    const after = meanTest(adjusted.control, adjusted.treatment);
    const width = (interval: [number, number] | null) =>
      (interval as [number, number])[1] - (interval as [number, number])[0];
    expect(width(after.ciAbsolute)).toBeLessThan(width(before.ciAbsolute));
    expect(after.pValue).toBeLessThan(before.pValue as number);
  });

  it("corrects for a pre-period imbalance", () => {
    const adjusted = cuped({ control: correlated(5000, 10, 8), treatment: correlated(5000, 10.3, 8.2) });
    expect(adjusted.treatment.mean).toBeCloseTo(10.3 - adjusted.theta * 0.2, 12);
  });

  it("does nothing without a usable covariate or with an empty arm", () => {
    const constant: CupedArm = {
      n: 100,
      mean: 5,
      variance: 2,
      covariateMean: 1,
      covariateVariance: 0,
      covariance: 0,
    };
    expect(cuped({ control: constant, treatment: { ...constant, mean: 6 } })).toMatchObject({
      theta: 0,
      varianceReduction: 0,
    });
    const empty = cuped({ control: { ...constant, n: 0 }, treatment: correlated(100, 5, 1) });
    expect(empty.theta).toBe(0);
    expect(
      cupedEffectTest({ control: { ...constant, n: 0 }, treatment: correlated(100, 5, 1) }).undefinedReason,
    ).toBe("empty-arm");
  });

  it("absolute CUPED effect equals meanTest on the adjusted arms", () => {
    const input = { control: correlated(3000, 10, 8), treatment: correlated(2800, 10.2, 8.1) };
    const adjusted = cuped(input);
    const effect = cupedEffectTest(input, { differenceType: "absolute" });
    const means = meanTest(adjusted.control, adjusted.treatment);
    expect(effect.estimate).toBeCloseTo(means.absoluteLift as number, 12);
    expect(effect.pValue).toBeCloseTo(means.pValue as number, 12);
    expect(effect.ci?.[0]).toBeCloseTo((means.ciAbsolute as [number, number])[0], 12);
  });
});
