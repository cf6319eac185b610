import betaln from "@stdlib/math-base-special-betaln";
import { describe, expect, it } from "vitest";
import {
  type ProportionArm,
  probabilityToBeBest,
  probabilityToBeBestNormal,
  proportionTest,
} from "@/features/experiments/core";
import { mulberry32 } from "@/features/experiments/core/seeded-random";
import { integrate } from "@/features/experiments/core/stats/quadrature";

/**
 * Evan Miller's closed form of P(θB > θA) for Beta posteriors
 * (https://www.evanmiller.org/bayesian-ab-testing.html), summed term by term: an independent check
 * of the numerical integration.
 */
function closedFormChanceToBeat(control: ProportionArm, treatment: ProportionArm): number {
  const alphaA = 1 + control.conversions;
  const betaA = 1 + control.n - control.conversions;
  const alphaB = 1 + treatment.conversions;
  const betaB = 1 + treatment.n - treatment.conversions;
  let total = 0;
  for (let i = 0; i < alphaB; i++) {
    total += Math.exp(
      betaln(alphaA + i, betaA + betaB) - Math.log(betaB + i) - betaln(1 + i, betaB) - betaln(alphaA, betaA),
    );
  }
  return total;
}

/** Gamma(shape ≥ 1) by Marsaglia & Tsang (2000); Beta(a, b) = X/(X + Y). */
function betaSampler(random: () => number) {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const gamma = (shape: number) => {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const v = (1 + c * x) ** 3;
      if (v > 0 && Math.log(1 - random()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  return (a: number, b: number) => {
    const x = gamma(a);
    return x / (x + gamma(b));
  };
}

describe("chanceToBeatControl against the closed form", () => {
  const cases: [ProportionArm, ProportionArm][] = [
    [
      { n: 1000, conversions: 100 },
      { n: 1000, conversions: 120 },
    ],
    [
      { n: 20, conversions: 2 },
      { n: 20, conversions: 5 },
    ],
    [
      { n: 500, conversions: 0 },
      { n: 500, conversions: 3 },
    ],
    [
      { n: 200, conversions: 200 },
      { n: 200, conversions: 199 },
    ],
    [
      { n: 4000, conversions: 120 },
      { n: 8000, conversions: 270 },
    ],
    [
      { n: 3, conversions: 1 },
      { n: 0, conversions: 0 },
    ],
    [
      { n: 25_000, conversions: 2_400 },
      { n: 24_000, conversions: 2_450 },
    ],
  ];
  it.each(cases)("%o vs %o", (control, treatment) => {
    const chance = proportionTest(control, treatment).chanceToBeatControl;
    if (treatment.n === 0) {
      expect(chance).toBeNull();
      return;
    }
    expect(Math.abs((chance as number) - closedFormChanceToBeat(control, treatment))).toBeLessThan(1e-10);
  });
});

describe("probabilityToBeBest (Beta posteriors)", () => {
  it("two arms: the treatment's probability is the chance to beat control", () => {
    const control = { n: 1000, conversions: 100 };
    const treatment = { n: 1000, conversions: 120 };
    const { probabilities, expectedLoss } = probabilityToBeBest([control, treatment]);
    expect(probabilities[1]).toBeCloseTo(closedFormChanceToBeat(control, treatment), 10);
    expect((probabilities[0] as number) + (probabilities[1] as number)).toBeCloseTo(1, 14);
    expect(expectedLoss[1]).toBeLessThan(expectedLoss[0] as number);
    // E[max] − E[θc] − (E[max] − E[θt]) is exactly the difference of the posterior means.
    expect((expectedLoss[0] as number) - (expectedLoss[1] as number)).toBeCloseTo(
      121 / 1002 - 101 / 1002,
      12,
    );
  });

  it("identical arms share the probability equally", () => {
    const arm = { n: 5000, conversions: 400 };
    const { probabilities, expectedLoss } = probabilityToBeBest([arm, arm, arm]);
    for (const probability of probabilities) expect(probability).toBeCloseTo(1 / 3, 9);
    for (const loss of expectedLoss) expect(loss).toBeCloseTo(expectedLoss[0] as number, 12);
  });

  it("probabilities sum to 1 and losses are non-negative, from tiny to huge arms", () => {
    const sets: ProportionArm[][] = [
      [
        { n: 0, conversions: 0 },
        { n: 10, conversions: 1 },
      ],
      [
        { n: 100, conversions: 0 },
        { n: 100, conversions: 0 },
        { n: 100, conversions: 1 },
      ],
      [
        { n: 50, conversions: 50 },
        { n: 50, conversions: 49 },
        { n: 60, conversions: 60 },
      ],
      [
        { n: 2_000_000, conversions: 60_000 },
        { n: 2_000_000, conversions: 60_500 },
        { n: 500, conversions: 16 },
      ],
      [
        { n: 1000, conversions: 30 },
        { n: 1000, conversions: 35 },
        { n: 1000, conversions: 40 },
        { n: 1000, conversions: 45 },
        { n: 1000, conversions: 50 },
      ],
    ];
    for (const arms of sets) {
      const { probabilities, expectedLoss } = probabilityToBeBest(arms);
      expect(probabilities).toHaveLength(arms.length);
      expect(probabilities.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 12);
      for (const value of [...probabilities, ...expectedLoss]) {
        expect(Number.isFinite(value)).toBe(true);
        expect(value).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it("the arm most likely to be best has the smallest expected loss", () => {
    const arms = [
      { n: 1000, conversions: 30 },
      { n: 1200, conversions: 45 },
      { n: 900, conversions: 33 },
    ];
    const { probabilities, expectedLoss } = probabilityToBeBest(arms);
    const best = probabilities.indexOf(Math.max(...probabilities));
    expect(best).toBe(1);
    expect(expectedLoss.indexOf(Math.min(...expectedLoss))).toBe(best);
  });

  it("agrees with a seeded Monte Carlo simulation (within 4 standard errors)", () => {
    const arms = [
      { n: 400, conversions: 40 },
      { n: 380, conversions: 45 },
      { n: 420, conversions: 47 },
    ];
    // Seeded, so the Monte Carlo check is reproducible.
    const random = mulberry32(20240601);
    const sampleBeta = betaSampler(random);
    const draws = 100_000;
    const wins = [0, 0, 0];
    const losses = [0, 0, 0];
    for (let draw = 0; draw < draws; draw++) {
      const thetas = arms.map((arm) => sampleBeta(1 + arm.conversions, 1 + arm.n - arm.conversions));
      const maximum = Math.max(...thetas);
      (wins as number[])[thetas.indexOf(maximum)] = (wins[thetas.indexOf(maximum)] as number) + 1;
      thetas.forEach((theta, i) => {
        losses[i] = (losses[i] as number) + maximum - theta;
      });
    }
    const exact = probabilityToBeBest(arms);
    exact.probabilities.forEach((probability, i) => {
      const simulated = (wins[i] as number) / draws;
      expect(Math.abs(probability - simulated)).toBeLessThan(
        4 * Math.sqrt((probability * (1 - probability)) / draws),
      );
    });
    exact.expectedLoss.forEach((loss, i) => {
      expect(Math.abs(loss - (losses[i] as number) / draws)).toBeLessThan(0.0005);
    });
  });

  it("handles no arms and one arm", () => {
    expect(probabilityToBeBest([])).toEqual({ probabilities: [], expectedLoss: [] });
    expect(probabilityToBeBest([{ n: 10, conversions: 2 }])).toEqual({
      probabilities: [1],
      expectedLoss: [0],
    });
  });

  it("stays fast and sharp with millions of participants", () => {
    const started = performance.now();
    const { probabilities } = probabilityToBeBest([
      { n: 10_000_000, conversions: 1_000_000 },
      { n: 10_000_000, conversions: 1_000_200 },
    ]);
    expect(performance.now() - started).toBeLessThan(2000);
    // z = 200/√(2·10⁷·0.09) ≈ 0.149: P = Φ(0.149) by the normal approximation, excellent at this size.
    expect(probabilities[1]).toBeCloseTo(0.55924, 4);
  });
});

describe("probabilityToBeBestNormal", () => {
  /** P(N(z, 1) beats a point mass at 0) is Φ(z). */
  const normalCdf = (z: number) => {
    return probabilityToBeBestNormal([
      { mean: 0, se: 0 },
      { mean: z, se: 1 },
    ]).probabilities[1] as number;
  };

  it("matches Φ at known points", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 12);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 10);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 10);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 10);
  });

  it("two arms: P(treatment best) = Φ(Δ/√(σc² + σt²)) and the losses are E[max(±Δ, 0)]", () => {
    const control = { mean: 10, se: 0.3 };
    const treatment = { mean: 10.4, se: 0.4 };
    const { probabilities, expectedLoss } = probabilityToBeBestNormal([control, treatment]);
    const sigma = 0.5;
    const z = 0.4 / sigma;
    const cdf = 0.7881446014166034; // Φ(0.8)
    const pdf = Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
    expect(probabilities[1]).toBeCloseTo(cdf, 10);
    expect(expectedLoss[0]).toBeCloseTo(0.4 * cdf + sigma * pdf, 10);
    expect(expectedLoss[1]).toBeCloseTo(0.4 * cdf + sigma * pdf - 0.4, 10);
  });

  it("a zero standard error is a known value: best with probability Π_j Φ((m − μ_j)/σ_j)", () => {
    const { probabilities } = probabilityToBeBestNormal([
      { mean: 1, se: 0.1 },
      { mean: 1.05, se: 0.2 },
      { mean: 1.1, se: 0 },
      { mean: 0.9, se: 0.05 },
    ]);
    // Φ(1)·Φ(0.25)·Φ(4)
    expect(probabilities[2]).toBeCloseTo(0.8413447460685429 * 0.5987063256829237 * 0.9999683287581669, 12);
    // Two equal known values tie; a lower known value never wins.
    expect(
      probabilityToBeBestNormal([
        { mean: 2, se: 0 },
        { mean: 2, se: 0 },
        { mean: 1, se: 0 },
      ]),
    ).toEqual({ probabilities: [0.5, 0.5, 0], expectedLoss: [0, 0, 1] });
  });

  it("sums to 1 for several arms, including zero-width ones, and rejects a negative se", () => {
    const { probabilities } = probabilityToBeBestNormal([
      { mean: 1, se: 0.1 },
      { mean: 1.05, se: 0.2 },
      { mean: 1.1, se: 0 },
      { mean: 0.9, se: 0.05 },
    ]);
    expect(probabilities.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 12);
    expect(() => probabilityToBeBestNormal([{ mean: 1, se: -1 }])).toThrow(RangeError);
  });
});

describe("adaptive Gauss–Kronrod quadrature", () => {
  it("is exact for polynomials and accurate for narrow peaks with breakpoints", () => {
    expect(integrate((x) => x ** 10 - 3 * x ** 3, -1, 2)).toBeCloseTo(
      2 ** 11 / 11 + 1 / 11 - (3 / 4) * (16 - 1),
      10,
    );
    const sd = 1e-6;
    const peak = (x: number) => Math.exp(-(((x - 0.3) / sd) ** 2) / 2) / (sd * Math.sqrt(2 * Math.PI));
    const ladder = [-9, -6, -3, -1, 0, 1, 3, 6, 9].map((z) => 0.3 + z * sd);
    expect(integrate(peak, 0, 1, { breakpoints: ladder })).toBeCloseTo(1, 10);
    expect(integrate(Math.sin, 0, Math.PI)).toBeCloseTo(2, 13);
    expect(integrate(Math.exp, 1, 1)).toBe(0);
  });
});
