import { describe, expect, it } from "vitest";
import {
  type BucketRange,
  chooseVariation,
  evalCondition,
  getBucketRanges,
  getEqualWeights,
  hash,
  inNamespace,
  type Namespace,
} from "@/features/experiments/core";
import { loadVectors } from "./vectors";

type GrowthBookCases = {
  hash: [string, string, number, number | null][];
  getBucketRange: [string, [number, number, number[] | null], BucketRange[]][];
  chooseVariation: [string, number, BucketRange[], number][];
  getEqualWeights: [number, number[]][];
  inNamespace: [string, string, Namespace, boolean][];
  evalCondition: [string, object, object, boolean, object?][];
};

const cases = loadVectors<GrowthBookCases>("growthbook-cases.json");

describe("GrowthBook shared SDK cases", () => {
  it.each(cases.hash)("hash(%j, %j, v%i) = %j", (seed, value, version, expected) => {
    const actual = hash(seed, value, version as 1 | 2);
    if (expected === null) expect(actual).toBeNull();
    // GrowthBook's cases round to 3 (v1) or 4 (v2) decimals, which is the hash's own resolution.
    else expect(actual).toBeCloseTo(expected, 9);
  });

  it.each(cases.getBucketRange)("getBucketRanges: %s", (_name, [count, coverage, weights], expected) => {
    const ranges = getBucketRanges(count, coverage, weights ?? undefined);
    expect(ranges).toHaveLength(expected.length);
    ranges.forEach(([start, end], index) => {
      expect(start).toBeCloseTo(expected[index]?.[0] as number, 6);
      expect(end).toBeCloseTo(expected[index]?.[1] as number, 6);
    });
  });

  it.each(cases.chooseVariation)("chooseVariation: %s", (_name, n, ranges, expected) => {
    expect(chooseVariation(n, ranges)).toBe(expected);
  });

  it.each(cases.getEqualWeights)("getEqualWeights(%i)", (count, expected) => {
    const weights = getEqualWeights(count);
    expect(weights).toHaveLength(expected.length);
    for (const [index, weight] of weights.entries()) expect(weight).toBeCloseTo(expected[index] as number, 6);
  });

  it.each(cases.inNamespace)("inNamespace: %s", (_name, id, namespace, expected) => {
    expect(inNamespace(id, namespace)).toBe(expected);
  });

  it.each(cases.evalCondition)("evalCondition: %s", (_name, condition, attributes, expected, savedGroups) => {
    expect(evalCondition(condition, attributes, savedGroups ?? {})).toBe(expected);
  });

  it("runs every case of each required section", () => {
    expect(cases.hash.length).toBeGreaterThan(10);
    expect(cases.evalCondition.length).toBeGreaterThan(200);
  });
});
