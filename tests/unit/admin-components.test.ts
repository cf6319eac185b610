import { describe, expect, it } from "vitest";
import { changedFields } from "@/features/experiments/components/audit-log-table";
import { errorsUnder, parseList, zodFieldErrors } from "@/features/experiments/components/form-errors";
import { describeAge } from "@/features/experiments/components/results-format";
import { describeTargeting } from "@/features/experiments/components/targeting-summary";
import { splitEvenly } from "@/features/experiments/components/variants-editor";
import { experimentDraftSchema } from "@/features/experiments/core/admin-inputs";
import { experimentSlugSchema } from "@/features/experiments/core/config";
import { validateVariants } from "@/features/experiments/core/variants";

describe("splitEvenly", () => {
  it.each([2, 3, 6, 7, 20])("splits %i variants into a valid 100%%", (count) => {
    const variants = Array.from({ length: count }, (_, i) => ({
      name: i === 0 ? "control" : `v${i}`,
      percentage: 0,
    }));
    const split = splitEvenly(variants);
    expect(validateVariants(split)).toEqual({ valid: true, problems: [] });
    const shares = split.map((variant) => variant.percentage);
    expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(0.2);
  });
});

describe("form errors", () => {
  it("maps the server's schema errors to fields, nested ones included", () => {
    const parsed = experimentDraftSchema.safeParse({
      slug: "Bad Slug",
      scope: "visitor",
      variants: [
        { name: "control", percentage: 60 },
        { name: "b", percentage: 60 },
      ],
      conversionEvents: ["ok_event", "Not-OK"],
    });
    const errors = zodFieldErrors(parsed.error);
    expect(errors.slug?.[0]).toMatch(/lower-case/);
    expect(errors.variants?.join(" ")).toMatch(/add up to 100 \(they add up to 120\)/);
    expect(errorsUnder(errors, "conversionEvents")).toEqual([expect.stringMatching(/snake_case/)]);
  });

  it("parses comma and space separated lists", () => {
    expect(parseList(" signup, cta_click\npurchase ,, ")).toEqual(["signup", "cta_click", "purchase"]);
  });

  it("reserves the console's own paths as slugs", () => {
    expect(experimentSlugSchema.safeParse("new").success).toBe(false);
    expect(experimentSlugSchema.safeParse("new-checkout").success).toBe(true);
  });
});

describe("audit log diff", () => {
  it("lists the fields that changed, inside the config too", () => {
    const before = { description: "a", config: { status: "running", trafficPercent: 50, phase: 1 } };
    const after = { description: "a", config: { status: "running", trafficPercent: 80, phase: 2 } };
    expect(changedFields(before, after)).toEqual([
      { field: "trafficPercent", from: 50, to: 80 },
      { field: "phase", from: 1, to: 2 },
    ]);
    expect(changedFields(null, { description: "x" })).toEqual([
      { field: "description", from: undefined, to: "x" },
    ]);
  });
});

describe("describeTargeting", () => {
  it("reads as a sentence", () => {
    expect(describeTargeting({})).toBe("Everyone");
    expect(
      describeTargeting({
        plans: ["teams", "organization"],
        excludeOrganizations: true,
        condition: { a: 1 },
      }),
    ).toBe("plans teams, organization · not in an organization · attribute condition");
  });
});

describe("describeAge", () => {
  const computed = "2026-12-06T12:00:00.000Z";
  const ago = (ms: number) => new Date(Date.parse(computed) - ms).toISOString();
  it("says how long before the page was computed, in the largest sensible unit", () => {
    expect(describeAge(ago(59_999), computed)).toBe("under a minute");
    expect(describeAge(ago(60_000), computed)).toBe("1 minute");
    expect(describeAge(ago(4 * 60_000 + 59_000), computed)).toBe("4 minutes");
    expect(describeAge(ago(119 * 60_000), computed)).toBe("119 minutes");
    expect(describeAge(ago(120 * 60_000), computed)).toBe("2 hours");
    expect(describeAge(ago(47 * 3_600_000 + 59 * 60_000), computed)).toBe("47 hours");
    expect(describeAge(ago(3 * 86_400_000), computed)).toBe("3 days");
  });
  it("never goes negative when the stamp is a little ahead of the page's clock", () => {
    expect(describeAge("2026-12-06T12:00:05.000Z", computed)).toBe("under a minute");
  });
});
