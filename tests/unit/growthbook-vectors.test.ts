import { evalCondition as growthBookEvalCondition } from "@growthbook/growthbook";
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
    // Bucketing compares the hash with range bounds, so "close" could still put a subject in
    // another variant than GrowthBook's SDK does: the value must be the same double.
    expect(actual).toBe(expected);
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

/**
 * Cases the shared vectors do not cover, each checked against GrowthBook's own SDK (the installed
 * @growthbook/growthbook) as well as against the value it gives today, so an SDK upgrade that
 * changes a semantic shows up here rather than as silently different targeting.
 */
const V2_GROUPS = {
  admins: { type: "list", attributeKey: "id", values: ["u1", "u2"] },
  numbers: { type: "list", attributeKey: "n", values: [1, 2] },
  legacy: ["u1"],
  adults: { type: "condition", condition: { age: { $gte: 18 } } },
  broken: { type: "list", attributeKey: "id" },
  future: { type: "segment", values: ["u1"] },
  loop: { type: "condition", condition: { $savedGroup: { id: "loop" } } },
};

const beyondVectors: [string, object, object, boolean][] = [
  ["$inGroup, v2 list, member", { id: { $inGroup: "admins" } }, { id: "u1" }, true],
  ["$inGroup, v2 list, not a member", { id: { $inGroup: "admins" } }, { id: "u3" }, false],
  ["$notInGroup, v2 list, member", { id: { $notInGroup: "admins" } }, { id: "u2" }, false],
  ["$notInGroup, v2 list, not a member", { id: { $notInGroup: "admins" } }, { id: "u3" }, true],
  ["$inGroup, v2 list of numbers, array attribute", { n: { $inGroup: "numbers" } }, { n: [5, 2] }, true],
  ["$inGroup, v1 list still works", { id: { $inGroup: "legacy" } }, { id: "u1" }, true],
  ["$inGroup, unknown group", { id: { $inGroup: "nobody" } }, { id: "u1" }, false],
  ["$notInGroup, unknown group passes", { id: { $notInGroup: "nobody" } }, { id: "u1" }, true],
  ["$inGroup, a condition group", { id: { $inGroup: "adults" } }, { id: "u1", age: 30 }, false],
  ["$notInGroup, a condition group matches nobody", { id: { $notInGroup: "adults" } }, { id: "u1" }, false],
  ["$inGroup, list without values", { id: { $inGroup: "broken" } }, { id: "u1" }, false],
  ["$notInGroup, list without values matches nobody", { id: { $notInGroup: "broken" } }, { id: "u1" }, false],
  ["$notInGroup, unknown group type", { id: { $notInGroup: "future" } }, { id: "u9" }, false],
  ["$savedGroup, list group by its attribute", { $savedGroup: { id: "admins" } }, { id: "u2" }, true],
  ["$savedGroup, list group outside", { $savedGroup: { id: "admins" } }, { id: "u3" }, false],
  [
    "$savedGroup, attributeKey override",
    { $savedGroup: { id: "admins", attributeKey: "owner" } },
    { id: "u3", owner: "u1" },
    true,
  ],
  ["$savedGroup, condition group", { $savedGroup: { id: "adults" } }, { age: 21 }, true],
  ["$savedGroup, condition group outside", { $savedGroup: { id: "adults" } }, { age: 12 }, false],
  [
    "$savedGroup, a v1 list is not a reference target",
    { $savedGroup: { id: "legacy" } },
    { id: "u1" },
    false,
  ],
  ["$savedGroup, a group that refers to itself", { $savedGroup: { id: "loop" } }, {}, false],
  ["$savedGroup, not an object", { $savedGroup: "admins" }, { id: "u1" }, false],
  [
    "$elemMatch skips null elements ($exists: false)",
    { t: { $elemMatch: { $exists: false } } },
    { t: [null, "a"] },
    false,
  ],
  ["$elemMatch skips null elements ($ne)", { t: { $elemMatch: { $ne: "a" } } }, { t: [null, "a"] }, false],
  ["$elemMatch still tests 0", { t: { $elemMatch: { $eq: 0 } } }, { t: [null, 0] }, true],
  ["$elemMatch still tests false", { t: { $elemMatch: { $eq: false } } }, { t: [null, false] }, true],
  ["$elemMatch on objects, null skipped", { t: { $elemMatch: { k: null } } }, { t: [null, { k: 1 }] }, false],
  ["$elemMatch on objects, null field", { t: { $elemMatch: { k: null } } }, { t: [null, { k: null }] }, true],
  ["false against an explicitly undefined attribute", { a: false }, { a: undefined }, true],
  ["true against an explicitly undefined attribute", { a: true }, { a: undefined }, false],
  ["false against a missing attribute", { a: false }, {}, false],
  ["false against null", { a: false }, { a: null }, false],
  ["false against 0", { a: false }, { a: 0 }, true],
  ["$alli with an operator keeps its case", { t: { $alli: [{ $eq: "A" }] } }, { t: ["A"] }, true],
  ["$alli with an operator is not folded", { t: { $alli: [{ $eq: "A" }] } }, { t: ["a"] }, false],
  ["$alli with strings folds case", { t: { $alli: ["A", "b"] } }, { t: ["a", "B"] }, true],
  ["$nor of nothing", { $nor: [] }, {}, false],
  ["$and of nothing", { $and: [] }, {}, true],
  ["$not of a literal path", { $not: { a: 1 } }, { a: 2 }, true],
  ["$regex that does not compile", { a: { $regex: "(" } }, { a: "(" }, false],
  ["$regex with a slash", { a: { $regex: "^a/b$" } }, { a: "a/b" }, true],
  ["$type of an explicit undefined", { a: { $type: "undefined" } }, { a: undefined }, true],
  ["$exists on an explicit undefined", { a: { $exists: true } }, { a: undefined }, false],
];

describe("evalCondition beyond the shared vectors, against GrowthBook's SDK", () => {
  it.each(beyondVectors)("%s", (_name, condition, attributes, expected) => {
    const growthBook = growthBookEvalCondition(
      attributes as Parameters<typeof growthBookEvalCondition>[0],
      condition as Parameters<typeof growthBookEvalCondition>[1],
      // Deliberately malformed entries ("broken", "future") are outside the SDK's type.
      V2_GROUPS as unknown as Parameters<typeof growthBookEvalCondition>[2],
    );
    expect(growthBook).toBe(expected);
    expect(evalCondition(condition, attributes, V2_GROUPS)).toBe(growthBook);
  });

  it("never throws: what GrowthBook's SDK would throw on (or cannot mean) is not a match", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: object = { a: 1 };
    for (let i = 0; i < 100_000; i += 1) deep = { $not: deep };
    const malformed: [object, object, object?][] = [
      [{ $or: null }, {}],
      [{ $nor: null }, {}],
      [{ $and: 5 }, {}],
      [{ $or: [5] }, {}],
      [{ $not: "x" }, {}],
      [{ a: { $elemMatch: null } }, { a: [1] }],
      [{ a: { $inGroup: "g" } }, { a: 1 }, { g: null }],
      [{ a: { $notInGroup: "g" } }, { a: 1 }, { g: { type: "list", values: "u1" } }],
      [{ a: { $notInGroup: "constructor" } }, { a: 1 }],
      [{ a: [1] }, { a: BigInt(1) }],
      [{ a: { b: 1 } }, { a: cyclic }],
      [{ a: { $gt: 1 } }, { a: Symbol("s") }],
      [deep, { a: 2 }],
      [null as unknown as object, {}],
      ["a" as unknown as object, {}],
    ];
    for (const [condition, attributes, groups] of malformed) {
      expect(() => evalCondition(condition, attributes, groups)).not.toThrow();
      expect(evalCondition(condition, attributes, groups)).toBe(false);
    }
  });
});
