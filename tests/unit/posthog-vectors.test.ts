import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  assignVariant,
  posthogHash,
  posthogHashWithPrefix,
  posthogInRollout,
  posthogVariant,
  sha1Hex,
} from "@/features/experiments/core";
import { loadVectors } from "./vectors";

type PostHogVariant = { key: string; rolloutPercentage: number };
type PostHogVector =
  | {
      kind: "hash";
      flagKey: string | null;
      hashKeyPrefix?: string;
      distinctId: string;
      salt: string;
      expectedHash: number;
    }
  | {
      kind: "rollout";
      flagKey: string;
      distinctId: string;
      rolloutPercentage: number;
      expectedEnabled: boolean;
    }
  | {
      kind: "multivariate";
      flagKey: string;
      distinctId: string;
      rolloutPercentage: number;
      variants: PostHogVariant[];
      /** false when the subject is outside the flag's rollout (PostHog's "flag off"). */
      expectedVariant: string | false;
    }
  | {
      kind: "variant";
      flagKey: string;
      distinctId: string;
      variants: PostHogVariant[];
      expectedVariant: string;
    };

const vectors = loadVectors<PostHogVector[]>("posthog-hash-vectors.json");
const ofKind = <K extends PostHogVector["kind"]>(kind: K) =>
  vectors.filter((vector): vector is Extract<PostHogVector, { kind: K }> => vector.kind === kind);
const asVariants = (variants: PostHogVariant[]) =>
  variants.map((variant) => ({ name: variant.key, percentage: variant.rolloutPercentage }));

describe("sha1Hex", () => {
  it("agrees with node:crypto on ASCII, multi-byte UTF-8 and block-boundary lengths", () => {
    const samples = [
      "",
      "abc",
      "héllo wörld ✓ 🎲",
      "x".repeat(55),
      "y".repeat(56),
      "z".repeat(64),
      "w".repeat(1000),
    ];
    for (const sample of samples) {
      expect(sha1Hex(sample)).toBe(createHash("sha1").update(sample, "utf8").digest("hex"));
    }
  });
});

describe("PostHog feature-flag hashing vectors", () => {
  it("has every kind of vector", () => {
    expect(ofKind("hash").length).toBe(4);
    expect(ofKind("rollout").length).toBeGreaterThan(1000);
    expect(ofKind("multivariate").length).toBeGreaterThan(1000);
    expect(ofKind("variant").length).toBeGreaterThan(0);
  });

  it("reproduces PostHog's raw hashes (holdout prefix)", () => {
    for (const vector of ofKind("hash")) {
      const actual =
        vector.flagKey === null
          ? posthogHashWithPrefix(vector.hashKeyPrefix ?? "", vector.distinctId, vector.salt)
          : posthogHash(vector.flagKey, vector.distinctId, vector.salt);
      expect(actual).toBe(vector.expectedHash);
    }
  });

  it("reproduces every rollout decision", () => {
    const mismatches = ofKind("rollout").filter(
      (vector) =>
        posthogInRollout(vector.flagKey, vector.distinctId, vector.rolloutPercentage) !==
        vector.expectedEnabled,
    );
    expect(mismatches).toEqual([]);
  });

  it("reproduces every multivariate flag decision, through assignVariant in posthog mode", () => {
    const mismatches = ofKind("multivariate").filter((vector) => {
      const actual = assignVariant(
        {
          slug: vector.flagKey,
          variants: asVariants(vector.variants),
          trafficPercent: vector.rolloutPercentage,
          hashing: "posthog",
        },
        vector.distinctId,
      );
      return actual !== (vector.expectedVariant === false ? null : vector.expectedVariant);
    });
    expect(mismatches).toEqual([]);
  });

  it("reproduces variant lookups", () => {
    for (const vector of ofKind("variant")) {
      expect(posthogVariant(vector.flagKey, vector.distinctId, asVariants(vector.variants))).toBe(
        vector.expectedVariant,
      );
    }
  });

  it("gives null when the percentages do not cover the hash", () => {
    expect(posthogVariant("flag", "id", [{ name: "control", percentage: 0 }])).toBeNull();
  });
});
