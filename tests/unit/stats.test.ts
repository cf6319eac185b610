import { describe, expect, it } from "vitest";
import {
  DEFAULT_ALPHA,
  type Interval,
  meanTest,
  proportionTest,
  type StatsOptions,
  sampleSize,
  srmTest,
} from "@/features/experiments/core";
import { loadVectors } from "./vectors";

type ProportionVector = {
  input: {
    control: { n: number; conversions: number };
    treatment: { n: number; conversions: number };
    alpha: number;
  };
  expected: Record<string, number | boolean | number[] | null>;
};
type MeanVector = {
  input: {
    control: { n: number; mean: number; variance: number };
    treatment: { n: number; mean: number; variance: number };
    alpha: number;
  };
  expected: Record<string, number | boolean | number[] | null>;
};
type SrmVector = {
  input: { observed: number[]; expectedWeights: number[] };
  expected: { chiSquare: number; pValue: number; mismatch: boolean };
};
type SampleSizeVector = {
  input: { baselineRate: number; minDetectableEffect: number; alpha: number; power: number };
  expected: { perVariant: number; exact: number };
};
type Reference = {
  proportionTest: ProportionVector[];
  meanTest: MeanVector[];
  srmTest: SrmVector[];
  sampleSize: SampleSizeVector[];
};

const reference = loadVectors<Reference>("stats-reference.json");

/** The vectors' tolerance: 1e-6 relative, or 1e-9 absolute near zero. */
function expectClose(actual: unknown, expected: number) {
  expect(actual).toBeTypeOf("number");
  const difference = Math.abs((actual as number) - expected);
  expect(difference, `${actual} vs ${expected}`).toBeLessThanOrEqual(
    Math.max(1e-9, 1e-6 * Math.abs(expected)),
  );
}

/** Compares a result with a vector's expected fields: numbers and intervals to tolerance, the rest exactly. */
function expectMatches(result: object, expected: Record<string, unknown>) {
  const actual = result as Record<string, unknown>;
  for (const [key, value] of Object.entries(expected)) {
    if (typeof value === "number") expectClose(actual[key], value);
    else if (Array.isArray(value)) {
      const interval = actual[key] as Interval;
      expect(interval, key).toHaveLength(2);
      expectClose(interval[0], value[0] as number);
      expectClose(interval[1], value[1] as number);
    } else expect(actual[key], key).toEqual(value);
  }
}

function expectFiniteOrNull(result: object) {
  for (const [key, value] of Object.entries(result)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === "number") expect(Number.isFinite(item), `${key} = ${item}`).toBe(true);
    }
  }
}

const contains = (interval: Interval | null, value: number | null) =>
  interval !== null && value !== null && interval[0] <= value && value <= interval[1];

describe("reference vectors (stats-reference.json)", () => {
  it("has every section populated", () => {
    expect(reference.proportionTest.length).toBeGreaterThanOrEqual(8);
    expect(reference.meanTest.length).toBeGreaterThanOrEqual(4);
    expect(reference.srmTest.length).toBeGreaterThanOrEqual(4);
    expect(reference.sampleSize.length).toBeGreaterThanOrEqual(5);
  });

  it.each(reference.proportionTest.map((vector, i) => [i, vector] as const))(
    "proportionTest #%i matches the README formulas with the issue's plain call",
    (_, { input, expected }) => {
      // Only the issue's own option, and only when the vector needs it: the defaults must match.
      const result =
        input.alpha === DEFAULT_ALPHA
          ? proportionTest(input.control, input.treatment)
          : proportionTest(input.control, input.treatment, { alpha: input.alpha });
      expectMatches(result, expected);
      expect(result.ciRelativeMethod).toBe(expected.ciRelative === null ? null : "delta");
      expect(result.sequential).toBe(false);
      expect(result.undefinedReason).toBe(expected.relativeLift === null ? "control-rate-zero" : null);
    },
  );

  it("vector #1's delta interval crosses −100%, and the plain call still returns it as defined", () => {
    const vector = reference.proportionTest[1];
    const deltaInterval = vector?.expected.ciRelative as [number, number];
    expect(deltaInterval[0]).toBeLessThan(-1);
    const result = proportionTest({ n: 20, conversions: 2 }, { n: 20, conversions: 5 });
    expect(result.ciRelativeMethod).toBe("delta");
    expectClose(result.ciRelative?.[0], deltaInterval[0]);
    expectClose(result.ciRelative?.[1], deltaInterval[1]);
  });

  it.each(reference.proportionTest.map((vector, i) => [i, vector] as const))(
    'proportionTest #%i with relativeInterval "auto" differs only where delta crosses −100%%',
    (_, { input, expected }) => {
      const result = proportionTest(input.control, input.treatment, {
        alpha: input.alpha,
        relativeInterval: "auto",
      });
      const deltaInterval = expected.ciRelative as number[] | null;
      if (deltaInterval !== null && (deltaInterval[0] as number) < -1) {
        expect(result.ciRelativeMethod).toBe("log-ratio");
        expect((result.ciRelative as Interval)[0]).toBeGreaterThan(-1);
        expect(contains(result.ciRelative, result.relativeLift)).toBe(true);
        expectMatches(
          result,
          Object.fromEntries(Object.entries(expected).filter(([key]) => key !== "ciRelative")),
        );
      } else {
        expectMatches(result, expected);
        expect(result.ciRelativeMethod).toBe(deltaInterval === null ? null : "delta");
      }
    },
  );

  it.each(reference.meanTest.map((vector, i) => [i, vector] as const))(
    "meanTest #%i matches Welch's t-test",
    (_, { input, expected }) => {
      const result = meanTest(input.control, input.treatment, { alpha: input.alpha });
      expectMatches(result, expected);
      expect(result.ciRelativeMethod).toBe("delta");
      expect(result.undefinedReason).toBeNull();
    },
  );

  it.each(reference.srmTest.map((vector, i) => [i, vector] as const))(
    "srmTest #%i matches the chi-square goodness of fit",
    (_, { input, expected }) => {
      expectMatches(srmTest(input.observed, input.expectedWeights), expected);
    },
  );

  it.each(reference.sampleSize.map((vector, i) => [i, vector] as const))(
    "sampleSize #%i matches the two-proportion formula",
    (_, { input, expected }) => {
      const result = sampleSize(input);
      expect(result.perVariant).toBe(expected.perVariant);
      expectClose(result.exact, expected.exact);
    },
  );
});

describe("proportionTest edge cases", () => {
  it("0% control: rates, absolute lift and p-value are defined; the relative lift is null with a reason", () => {
    const result = proportionTest({ n: 1000, conversions: 0 }, { n: 1000, conversions: 4 });
    expect(result.relativeLift).toBeNull();
    expect(result.ciRelative).toBeNull();
    expect(result.ciRelativeMethod).toBeNull();
    expect(result.undefinedReason).toBe("control-rate-zero");
    expect(result.absoluteLift).toBeCloseTo(0.004, 12);
    expect(result.pValue).toBeGreaterThan(0);
    expect(result.chanceToBeatControl).toBeGreaterThan(0.9);
    expectFiniteOrNull(result);
  });

  it("0% in both arms: nothing to tell apart", () => {
    const result = proportionTest({ n: 500, conversions: 0 }, { n: 500, conversions: 0 });
    expect(result.pValue).toBe(1);
    expect(result.ciAbsolute).toEqual([0, 0]);
    expect(result.significant).toBe(false);
    expect(result.chanceToBeatControl).toBeCloseTo(0.5, 10);
    expectFiniteOrNull(result);
  });

  it("100% in both arms and 100% against 99%", () => {
    const both = proportionTest({ n: 300, conversions: 300 }, { n: 300, conversions: 300 });
    expect(both.pValue).toBe(1);
    expect(both.relativeLift).toBe(0);
    expect(both.ciRelative).toEqual([0, 0]);
    expect(both.chanceToBeatControl).toBeCloseTo(0.5, 10);
    expectFiniteOrNull(both);
    const lower = proportionTest({ n: 300, conversions: 300 }, { n: 300, conversions: 297 });
    expect(lower.absoluteLift).toBeLessThan(0);
    expect(lower.chanceToBeatControl).toBeLessThan(0.2);
    expectFiniteOrNull(lower);
  });

  it('a treatment with no conversions gets a one-sided log-ratio interval from −100% with "auto"', () => {
    const result = proportionTest(
      { n: 200, conversions: 20 },
      { n: 200, conversions: 0 },
      { relativeInterval: "auto" },
    );
    expect(result.relativeLift).toBe(-1);
    expect(result.ciRelativeMethod).toBe("log-ratio");
    const [lower, upper] = result.ciRelative as Interval;
    expect(lower).toBe(-1);
    expect(upper).toBeGreaterThan(-1);
    expect(upper).toBeLessThan(0);
    // The default is the README's delta method, which collapses to the point here.
    const delta = proportionTest({ n: 200, conversions: 20 }, { n: 200, conversions: 0 });
    expect(delta.ciRelativeMethod).toBe("delta");
    expect(delta.ciRelative).toEqual([-1, -1]);
  });

  it("an empty arm nulls every comparison, keeps the other rate, and says why", () => {
    const result = proportionTest({ n: 0, conversions: 0 }, { n: 100, conversions: 10 });
    expect(result).toMatchObject({
      controlRate: null,
      treatmentRate: 0.1,
      absoluteLift: null,
      relativeLift: null,
      pValue: null,
      ciAbsolute: null,
      ciRelative: null,
      chanceToBeatControl: null,
      significant: false,
      undefinedReason: "empty-arm",
    });
    expect(proportionTest({ n: 100, conversions: 10 }, { n: 0, conversions: 0 }).undefinedReason).toBe(
      "empty-arm",
    );
  });

  it("n in the millions stays finite, fast and sharp", () => {
    const started = performance.now();
    const result = proportionTest(
      { n: 5_000_000, conversions: 250_000 },
      { n: 5_000_000, conversions: 252_000 },
    );
    expect(performance.now() - started).toBeLessThan(2000);
    expectFiniteOrNull(result);
    expect(result.pValue).toBeLessThan(0.01);
    expect(result.significant).toBe(true);
    // Normal approximation of P(θt > θc) is excellent at this size.
    const se = Math.sqrt((0.05 * 0.95) / 5_000_000 + (0.0504 * 0.9496) / 5_000_000);
    expect(result.chanceToBeatControl).toBeGreaterThan(0.99);
    expect(Math.abs((result.chanceToBeatControl as number) - normalCdfApprox(0.0004 / se))).toBeLessThan(
      1e-3,
    );
    const huge = proportionTest(
      { n: 50_000_000, conversions: 5_000_000 },
      { n: 50_000_000, conversions: 5_000_000 },
    );
    expect(huge.pValue).toBe(1);
    expect(huge.chanceToBeatControl).toBeCloseTo(0.5, 6);
  });

  it("rejects impossible arms instead of returning NaN", () => {
    expect(() => proportionTest({ n: 10, conversions: 11 }, { n: 10, conversions: 1 })).toThrow(RangeError);
    expect(() => proportionTest({ n: -1, conversions: 0 }, { n: 10, conversions: 1 })).toThrow(RangeError);
    expect(() => proportionTest({ n: 10, conversions: Number.NaN }, { n: 10, conversions: 1 })).toThrow(
      RangeError,
    );
    expect(() => proportionTest({ n: 10, conversions: 1 }, { n: 10, conversions: 1 }, { alpha: 0 })).toThrow(
      RangeError,
    );
  });
});

/** Φ by the Abramowitz–Stegun 7.1.26 erf approximation (|error| < 1.5e-7), independent of the library. */
function normalCdfApprox(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

describe("meanTest edge cases", () => {
  it("an empty arm nulls everything", () => {
    const result = meanTest({ n: 0, mean: 0, variance: 0 }, { n: 10, mean: 5, variance: 1 });
    expect(result.undefinedReason).toBe("empty-arm");
    expect(result.absoluteLift).toBeNull();
    expect(result.pValue).toBeNull();
    expect(result.significant).toBe(false);
  });

  it("a single participant gives lifts but no inference", () => {
    const result = meanTest({ n: 1, mean: 4, variance: 0 }, { n: 50, mean: 5, variance: 1 });
    expect(result.undefinedReason).toBe("too-little-data");
    expect(result.absoluteLift).toBe(1);
    expect(result.relativeLift).toBeCloseTo(0.25, 12);
    expect(result.pValue).toBeNull();
    expect(result.ciAbsolute).toBeNull();
    expect(result.degreesOfFreedom).toBeNull();
  });

  it("a zero control mean nulls the relative lift only", () => {
    const result = meanTest({ n: 100, mean: 0, variance: 4 }, { n: 100, mean: 1, variance: 4 });
    expect(result.undefinedReason).toBe("control-mean-zero");
    expect(result.relativeLift).toBeNull();
    expect(result.ciRelative).toBeNull();
    expect(result.pValue).toBeGreaterThan(0);
    expect(result.pValue).toBeLessThan(0.01);
    expectFiniteOrNull(result);
  });

  it("zero variance in both arms: p is 1 for equal means, 0 otherwise, never NaN", () => {
    const equal = meanTest({ n: 10, mean: 3, variance: 0 }, { n: 10, mean: 3, variance: 0 });
    expect(equal.pValue).toBe(1);
    expect(equal.chanceToBeatControl).toBe(0.5);
    expect(equal.degreesOfFreedom).toBeNull();
    expectFiniteOrNull(equal);
    const different = meanTest({ n: 10, mean: 3, variance: 0 }, { n: 10, mean: 4, variance: 0 });
    expect(different.pValue).toBe(0);
    expect(different.chanceToBeatControl).toBe(1);
    expectFiniteOrNull(different);
  });

  it("revenue per participant with n in the millions", () => {
    const result = meanTest(
      { n: 3_000_000, mean: 2.5, variance: 400 },
      { n: 3_000_000, mean: 2.56, variance: 410 },
    );
    expectFiniteOrNull(result);
    expect(result.degreesOfFreedom).toBeGreaterThan(5_000_000);
    expect(result.pValue).toBeLessThan(0.001);
  });

  it('switches to the log-ratio interval with "auto" when the delta interval would cross −100%', () => {
    const result = meanTest(
      { n: 8, mean: 2, variance: 9 },
      { n: 8, mean: 0.5, variance: 1 },
      { relativeInterval: "auto" },
    );
    expect(result.ciRelativeMethod).toBe("log-ratio");
    expect((result.ciRelative as Interval)[0]).toBeGreaterThan(-1);
    expect(contains(result.ciRelative, result.relativeLift)).toBe(true);
    const delta = meanTest({ n: 8, mean: 2, variance: 9 }, { n: 8, mean: 0.5, variance: 1 });
    expect(delta.ciRelativeMethod).toBe("delta");
    expect((delta.ciRelative as Interval)[0]).toBeLessThan(-1);
  });
});

describe("properties", () => {
  const proportionCases: [number, number, number, number][] = [
    [1000, 100, 1000, 120],
    [20, 2, 20, 5],
    [4000, 120, 8000, 270],
    [300, 30, 310, 48],
    [50, 49, 60, 60],
    [100_000, 3_000, 90_000, 2_650],
  ];
  const options: StatsOptions[] = [
    {},
    { alpha: 0.1 },
    { sequential: true },
    { sequential: true, sequentialTuning: 800 },
  ];

  it("every interval contains its estimate", () => {
    for (const [nc, cc, nt, ct] of proportionCases) {
      for (const opts of options) {
        const result = proportionTest({ n: nc, conversions: cc }, { n: nt, conversions: ct }, opts);
        expect(contains(result.ciAbsolute, result.absoluteLift)).toBe(true);
        expect(contains(result.ciRelative, result.relativeLift)).toBe(true);
        const means = meanTest(
          { n: nc, mean: cc / nc, variance: 1 + cc / nc },
          { n: nt, mean: ct / nt, variance: 1.5 },
          opts,
        );
        expect(contains(means.ciAbsolute, means.absoluteLift)).toBe(true);
        expect(contains(means.ciRelative, means.relativeLift)).toBe(true);
      }
    }
  });

  it("swapping the arms mirrors the absolute lift and keeps the two-sided p-value", () => {
    for (const [nc, cc, nt, ct] of proportionCases) {
      for (const opts of options) {
        const forward = proportionTest({ n: nc, conversions: cc }, { n: nt, conversions: ct }, opts);
        const backward = proportionTest({ n: nt, conversions: ct }, { n: nc, conversions: cc }, opts);
        expect(backward.absoluteLift).toBeCloseTo(-(forward.absoluteLift as number), 14);
        expect(backward.pValue).toBeCloseTo(forward.pValue as number, 12);
        expect((backward.ciAbsolute as Interval)[0]).toBeCloseTo(-(forward.ciAbsolute as Interval)[1], 12);
        expect(backward.chanceToBeatControl).toBeCloseTo(1 - (forward.chanceToBeatControl as number), 9);
        const control = { n: nc, mean: 10, variance: 30 };
        const treatment = { n: nt, mean: 11, variance: 45 };
        const meansForward = meanTest(control, treatment, opts);
        const meansBackward = meanTest(treatment, control, opts);
        expect(meansBackward.absoluteLift).toBe(-(meansForward.absoluteLift as number));
        expect(meansBackward.pValue).toBeCloseTo(meansForward.pValue as number, 12);
        expect(meansBackward.degreesOfFreedom).toBeCloseTo(meansForward.degreesOfFreedom as number, 8);
      }
    }
  });

  it("the p-value falls as the sample grows at the same rates (fixed and sequential)", () => {
    for (const opts of [{}, { sequential: true }]) {
      let previous = 1;
      for (const n of [500, 1_000, 2_000, 5_000, 20_000, 100_000, 1_000_000]) {
        const result = proportionTest({ n, conversions: n * 0.1 }, { n, conversions: n * 0.108 }, opts);
        expect(result.pValue).toBeLessThanOrEqual(previous);
        previous = result.pValue as number;
      }
      expect(previous).toBeLessThan(1e-10);
    }
  });

  it("sequential intervals are wider than fixed-horizon ones and its p-values larger", () => {
    for (const [nc, cc, nt, ct] of proportionCases) {
      const fixed = proportionTest({ n: nc, conversions: cc }, { n: nt, conversions: ct });
      const sequential = proportionTest(
        { n: nc, conversions: cc },
        { n: nt, conversions: ct },
        { sequential: true },
      );
      expect(sequential.sequential).toBe(true);
      const fixedWidth = (fixed.ciAbsolute as Interval)[1] - (fixed.ciAbsolute as Interval)[0];
      const sequentialWidth = (sequential.ciAbsolute as Interval)[1] - (sequential.ciAbsolute as Interval)[0];
      expect(sequentialWidth).toBeGreaterThan(fixedWidth);
      expect(sequential.pValue).toBeGreaterThanOrEqual(fixed.pValue as number);
    }
  });

  it("significance agrees with the interval excluding zero (fixed horizon)", () => {
    for (const [nc, cc, nt, ct] of proportionCases) {
      const result = proportionTest({ n: nc, conversions: cc }, { n: nt, conversions: ct });
      const [lower, upper] = result.ciAbsolute as Interval;
      expect(result.significant).toBe(lower > 0 || upper < 0);
    }
  });
});
