import { describe, expect, it } from "vitest";
import {
  assignVariant,
  evaluateTargeting,
  experimentConfigSchema,
  explainTargeting,
  fnv1a32,
  hash,
  InvalidExperimentConfigError,
  inNamespace,
  paddedVersionString,
  parseExperimentConfig,
  subjectIdSchema,
  validateVariants,
} from "@/features/experiments/core";

const fiftyFifty = [
  { name: "control", percentage: 50 },
  { name: "treatment", percentage: 50 },
];

describe("hash", () => {
  it("hashes UTF-16 code units, not UTF-8 bytes", () => {
    // "é" is one UTF-16 unit (0xE9) but two UTF-8 bytes; FNV over code units of "\u00e9".
    let expected = 0x811c9dc5;
    expected = Math.imul(expected ^ 0xe9, 0x01000193) >>> 0;
    expect(fnv1a32("é")).toBe(expected);
    expect(hash("seed", "é", 2)).not.toBe(hash("seed", "Ã©", 2));
  });

  it("gives null for an unknown version", () => {
    expect(hash("a", "b", 3)).toBeNull();
  });
});

describe("assignVariant", () => {
  it("is deterministic and seeded by the slug", () => {
    const experiment = { slug: "checkout-button", variants: fiftyFifty };
    const first = Array.from({ length: 200 }, (_, index) => assignVariant(experiment, `u${index}`));
    const again = Array.from({ length: 200 }, (_, index) => assignVariant(experiment, `u${index}`));
    const other = Array.from({ length: 200 }, (_, index) =>
      assignVariant({ ...experiment, slug: "other-test" }, `u${index}`),
    );
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it("matches GrowthBook's bucket for the slug as seed", () => {
    const bucket = hash("checkout-button", "user-42", 2) as number;
    expect(assignVariant({ slug: "checkout-button", variants: fiftyFifty }, "user-42")).toBe(
      bucket < 0.5 ? "control" : "treatment",
    );
  });

  it("keeps subjects in their variant as traffic grows (coverage shrinks ranges from their start)", () => {
    for (let index = 0; index < 500; index++) {
      const id = `visitor-${index}`;
      const small = assignVariant({ slug: "grow", variants: fiftyFifty, trafficPercent: 20 }, id);
      const full = assignVariant({ slug: "grow", variants: fiftyFifty, trafficPercent: 100 }, id);
      if (small !== null) expect(full).toBe(small);
    }
  });

  it("excludes everyone at 0% traffic", () => {
    for (let index = 0; index < 100; index++) {
      expect(assignVariant({ slug: "off", variants: fiftyFifty, trafficPercent: 0 }, `s${index}`)).toBeNull();
    }
  });

  it("never gives a variant with 0%", () => {
    const variants = [
      { name: "control", percentage: 100 },
      { name: "never", percentage: 0 },
    ];
    for (const hashing of ["growthbook-v2", "posthog"] as const) {
      for (let index = 0; index < 300; index++) {
        expect(assignVariant({ slug: "zero", variants, hashing }, `s${index}`)).toBe("control");
      }
    }
  });
});

describe("inNamespace", () => {
  it("makes experiments with disjoint ranges mutually exclusive and covers everyone", () => {
    for (let index = 0; index < 2000; index++) {
      const id = `subject-${index}`;
      const first = inNamespace(id, ["checkout", 0, 0.5]);
      const second = inNamespace(id, ["checkout", 0.5, 1]);
      expect(first).not.toBe(second);
    }
  });
});

describe("validateVariants", () => {
  it("accepts a proper split, within the tolerance", () => {
    expect(validateVariants(fiftyFifty)).toEqual({ valid: true, problems: [] });
    expect(
      validateVariants([
        { name: "control", percentage: 33.333 },
        { name: "b", percentage: 33.333 },
        { name: "c", percentage: 33.334 },
      ]).valid,
    ).toBe(true);
  });

  it("reports every problem at once", () => {
    const result = validateVariants([
      { name: "a", percentage: -10 },
      { name: "a", percentage: 30 },
      { name: " ", percentage: 30 },
    ]);
    expect(result.valid).toBe(false);
    expect(result.problems).toHaveLength(5);
    expect(result.problems.join(" ")).toMatch(/name/);
    expect(result.problems.join(" ")).toMatch(/unique \(repeated: a\)/);
    expect(result.problems.join(" ")).toMatch(/"control" \(found 0\)/);
    expect(result.problems.join(" ")).toMatch(/negative/);
    expect(result.problems.join(" ")).toMatch(/add up to 50/);
  });

  it("bounds the number of variants", () => {
    expect(validateVariants([{ name: "control", percentage: 100 }]).problems[0]).toMatch(/2 to 20/);
    const many = Array.from({ length: 21 }, (_, index) => ({
      name: index === 0 ? "control" : `v${index}`,
      percentage: 100 / 21,
    }));
    expect(validateVariants(many).problems).toEqual([expect.stringMatching(/got 21/)]);
  });
});

describe("evaluateTargeting", () => {
  it("includes everyone with no rules", () => {
    expect(evaluateTargeting({}, {})).toBe(true);
    expect(evaluateTargeting({ plans: [], teamIds: [] }, {})).toBe(true);
  });

  it("ANDs plans, teams, organizations, the exclusion and the condition", () => {
    const rules = {
      plans: ["teams" as const, "organization" as const],
      organizationIds: ["org-1"],
      condition: { country: { $in: ["NL", "DE"] } },
    };
    expect(evaluateTargeting(rules, { plan: "teams", organizationId: "org-1", country: "NL" })).toBe(true);
    expect(evaluateTargeting(rules, { plan: "individual", organizationId: "org-1", country: "NL" })).toBe(
      false,
    );
    expect(evaluateTargeting(rules, { plan: "teams", organizationId: "org-2", country: "NL" })).toBe(false);
    expect(evaluateTargeting(rules, { plan: "teams", organizationId: "org-1", country: "US" })).toBe(false);
    expect(evaluateTargeting({ teamIds: ["t1"] }, { teamId: "t1" })).toBe(true);
    expect(evaluateTargeting({ teamIds: ["t1"] }, { teamId: "t2" })).toBe(false);
    expect(evaluateTargeting({ teamIds: ["t1"] }, {})).toBe(false);
  });

  it("excludeOrganizations leaves out organization members only", () => {
    expect(evaluateTargeting({ excludeOrganizations: true }, { plan: "teams" })).toBe(true);
    expect(evaluateTargeting({ excludeOrganizations: true }, { organizationId: "org-1" })).toBe(false);
    expect(evaluateTargeting({ excludeOrganizations: true }, { plan: "organization" })).toBe(false);
    expect(evaluateTargeting({ excludeOrganizations: false }, { organizationId: "org-1" })).toBe(true);
  });

  it("explains which rule failed", () => {
    const checks = explainTargeting(
      { plans: ["teams"], condition: { beta: true } },
      { plan: "teams", beta: false },
    );
    expect(checks.map((check) => [check.rule, check.passed])).toEqual([
      ["plans", true],
      ["condition", false],
    ]);
  });
});

describe("paddedVersionString", () => {
  it("orders versions numerically, releases after their pre-releases", () => {
    expect(paddedVersionString("1.10.0") > paddedVersionString("1.9.0")).toBe(true);
    expect(paddedVersionString("v1.0.0") > paddedVersionString("1.0.0-beta")).toBe(true);
    expect(paddedVersionString("1.0.0+build.5")).toBe(paddedVersionString("1.0.0"));
  });
});

describe("subjectIdSchema", () => {
  const problems = (id: string) => {
    const parsed = subjectIdSchema.safeParse(id);
    return parsed.success ? [] : parsed.error.issues.map((issue) => issue.message);
  };

  it("accepts letters, digits and . _ : @ - (uuids, emails, prefixed ids)", () => {
    for (const id of [
      "a",
      "v-123",
      "8f14e45f-ceea-467f-a0e3-8f7b1c3a2d91",
      "user@example.com",
      "org:42.team_7",
    ])
      expect(problems(id)).toEqual([]);
    expect(problems("x".repeat(128))).toEqual([]);
  });

  it("refuses every other character, naming the allowed ones", () => {
    for (const id of ["a b", "a/b", "a\\b", "a,b", "a;b", "<script>", "a\nb", "é", "a+b", "a%20b", "a\u0000"])
      expect(problems(id)).toEqual(["Ids use letters, digits and . _ : @ -"]);
  });

  it("bounds the length", () => {
    expect(problems("")).toContain("An id cannot be empty");
    expect(problems("x".repeat(129))).toEqual(["An id has at most 128 characters"]);
  });
});

describe("experimentConfigSchema on stored metadata", () => {
  const valid = { variants: fiftyFifty, scope: "visitor", status: "running" };

  it("refuses a configuration no experiment can serve, naming every problem", () => {
    const broken = {
      ...valid,
      status: "concluded",
      variants: [
        { name: "blue", percentage: 100 },
        { name: "green", percentage: 50 },
      ],
      winnerVariant: "nope",
    };
    const error = (() => {
      try {
        parseExperimentConfig("bad-meta", broken);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidExperimentConfigError);
    expect((error as InvalidExperimentConfigError).issues).toEqual([
      'variants: Exactly one variant is named "control" (found 0).',
      "variants: Percentages must add up to 100 (they add up to 150).",
      'winnerVariant: The winner "nope" is not a variant of this experiment (blue, green).',
    ]);
    expect((error as Error).message).toMatch(/^Experiment "bad-meta" has an invalid configuration: /);
  });

  it("accepts a winner that is one of the variants, and no winner", () => {
    expect(
      experimentConfigSchema.parse({ ...valid, status: "concluded", winnerVariant: "treatment" }),
    ).toMatchObject({ winnerVariant: "treatment" });
    expect(experimentConfigSchema.parse(valid).winnerVariant).toBeNull();
  });

  it("reports duplicate names once, and shape errors without running the whole-config checks", () => {
    const duplicates = experimentConfigSchema.safeParse({
      ...valid,
      variants: [
        { name: "control", percentage: 50 },
        { name: "control", percentage: 50 },
      ],
    });
    expect(duplicates.error?.issues.map((issue) => issue.message)).toEqual([
      "Variant names must be unique (repeated: control).",
      'Exactly one variant is named "control" (found 2).',
    ]);
    const shape = experimentConfigSchema.safeParse({ ...valid, variants: "fifty-fifty" });
    expect(shape.error?.issues.map((issue) => issue.path.join("."))).toEqual(["variants"]);
  });
});
