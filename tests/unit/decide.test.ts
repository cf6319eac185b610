import { describe, expect, it } from "vitest";
import { assignVariant } from "@/features/experiments/core";
import type { ExperimentConfig } from "@/features/experiments/core/config";
import {
  decideAssignment,
  peekAssignment,
  phaseSeed,
  pickWeighted,
  servesStoredAssignments,
} from "@/features/experiments/core/decide";
import { testConfig } from "./experiment-configs";

const config = (overrides: Partial<ExperimentConfig> = {}): ExperimentConfig =>
  testConfig({ status: "running", ...overrides });
const never = () => {
  throw new Error("no randomness expected");
};

describe("decideAssignment", () => {
  it("follows the lifecycle", () => {
    const slug = "hero-test";
    expect(decideAssignment({ slug, config: config({ status: "draft" }) }, "v", null, {}, never)).toEqual({
      variant: null,
      reason: "not-running",
      enroll: false,
    });
    expect(
      decideAssignment({ slug, config: config({ status: "paused" }) }, "v", "treatment", {}, never),
    ).toEqual({
      variant: "treatment",
      reason: "sticky",
      enroll: false,
    });
    expect(
      decideAssignment({ slug, config: config({ status: "paused" }) }, "v", null, {}, never).variant,
    ).toBeNull();
    expect(
      decideAssignment({ slug, config: config({ status: "concluded" }) }, "v", "treatment", {}, never),
    ).toEqual({
      variant: "control",
      reason: "concluded",
      enroll: false,
    });
    expect(
      decideAssignment(
        { slug, config: config({ status: "concluded", winnerVariant: "treatment" }) },
        "v",
        null,
        {},
        never,
      ).variant,
    ).toBe("treatment");
  });

  it("enrols deterministically with the core's bucketing in phase 1 and reshuffles in later phases", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
    const variants = config().variants;
    for (const id of ids) {
      const decision = decideAssignment({ slug: "hero-test", config: config() }, id, null, {}, never);
      expect(decision).toEqual({
        variant: assignVariant({ slug: "hero-test", variants }, id),
        reason: "assigned",
        enroll: true,
      });
    }
    const phase2 = ids.map(
      (id) =>
        decideAssignment({ slug: "hero-test", config: config({ phase: 2 }) }, id, null, {}, never).variant,
    );
    const phase1 = ids.map((id) => assignVariant({ slug: "hero-test", variants }, id));
    const moved = phase2.filter((variant, i) => variant !== phase1[i]).length;
    expect(moved).toBeGreaterThan(60);
    expect(moved).toBeLessThan(140);
    expect(phaseSeed("hero-test", 1)).toBe("hero-test");
  });

  it("checks targeting, then namespace, then traffic, before drawing", () => {
    const targeted = config({ targetingRules: { plans: ["organization"] } });
    expect(
      decideAssignment({ slug: "t-test", config: targeted }, "v", null, { plan: "teams" }, never).reason,
    ).toBe("not-targeted");
    const noTraffic = config({ trafficPercent: 0 });
    expect(decideAssignment({ slug: "t-test", config: noTraffic }, "v", null, {}, never).reason).toBe(
      "outside-traffic",
    );
    const emptyNamespace = config({ namespace: ["ns", 0, 0.0001] });
    const outside = Array.from({ length: 20 }, (_, i) =>
      decideAssignment({ slug: "t-test", config: emptyNamespace }, `n-${i}`, null, {}, never),
    );
    expect(outside.every((decision) => decision.reason === "outside-namespace")).toBe(true);
  });

  it("draws RANDOM variants from the given randomness", () => {
    const random = config({ assignmentType: "random" });
    expect(decideAssignment({ slug: "r-test", config: random }, "v", null, {}, () => 0.1).variant).toBe(
      "control",
    );
    expect(decideAssignment({ slug: "r-test", config: random }, "v", null, {}, () => 0.9).variant).toBe(
      "treatment",
    );
  });
});

describe("Feature.enabled", () => {
  const slug = "kill-test";

  it("a running experiment switched off serves nobody, enrolled or not", () => {
    const running = config();
    expect(decideAssignment({ slug, config: running, enabled: false }, "v", null, {}, never)).toEqual({
      variant: null,
      reason: "not-running",
      enroll: false,
    });
    expect(decideAssignment({ slug, config: running, enabled: false }, "v", "treatment", {}, never)).toEqual({
      variant: null,
      reason: "not-running",
      enroll: false,
    });
    expect(peekAssignment({ slug, config: running, enabled: false }, "v", "treatment", {})).toEqual({
      variant: null,
      reason: "not-running",
    });
    expect(servesStoredAssignments({ slug, config: running, enabled: false })).toBe(false);
  });

  it("switched on (or not given) it serves as before", () => {
    const running = config();
    for (const enabled of [true, undefined]) {
      expect(decideAssignment({ slug, config: running, enabled }, "v", "treatment", {}, never).reason).toBe(
        "sticky",
      );
      expect(decideAssignment({ slug, config: running, enabled }, "v", null, {}, never).enroll).toBe(true);
      expect(servesStoredAssignments({ slug, config: running, enabled })).toBe(true);
    }
  });

  it("leaves paused and concluded alone: their rows are disabled by design", () => {
    const paused = config({ status: "paused" });
    expect(decideAssignment({ slug, config: paused, enabled: false }, "v", "treatment", {}, never)).toEqual({
      variant: "treatment",
      reason: "sticky",
      enroll: false,
    });
    expect(servesStoredAssignments({ slug, config: paused, enabled: false })).toBe(true);
    const concluded = config({ status: "concluded", winnerVariant: "treatment" });
    expect(decideAssignment({ slug, config: concluded, enabled: false }, "v", null, {}, never).variant).toBe(
      "treatment",
    );
    expect(servesStoredAssignments({ slug, config: concluded, enabled: false })).toBe(false);
    expect(servesStoredAssignments({ slug, config: config({ status: "draft" }) })).toBe(false);
  });
});

describe("peekAssignment", () => {
  it("names the hash's variant for a deterministic experiment, the one enrolment would store", () => {
    for (const id of Array.from({ length: 50 }, (_, i) => `peek-${i}`)) {
      const experiment = { slug: "p-test", config: config() };
      expect(peekAssignment(experiment, id, null, {})).toEqual({
        variant: decideAssignment(experiment, id, null, {}, never).variant,
        reason: "assigned",
      });
    }
  });

  it("does not guess a RANDOM experiment's draw, and never draws", () => {
    const random = { slug: "r-test", config: config({ assignmentType: "random" }) };
    const ids = Array.from({ length: 50 }, (_, i) => `peek-${i}`);
    for (const id of ids)
      expect(peekAssignment(random, id, null, {})).toEqual({
        variant: null,
        reason: "would-assign-randomly",
      });
    // A stored draw is known, and the rules that keep a subject out still say so.
    expect(peekAssignment(random, "v", "treatment", {})).toEqual({ variant: "treatment", reason: "sticky" });
    const noTraffic = { slug: "r-test", config: config({ assignmentType: "random", trafficPercent: 0 }) };
    expect(peekAssignment(noTraffic, "v", null, {})).toEqual({ variant: null, reason: "outside-traffic" });
    const targeted = {
      slug: "r-test",
      config: config({ assignmentType: "random", targetingRules: { plans: ["teams"] } }),
    };
    expect(peekAssignment(targeted, "v", null, { plan: "individual" }).reason).toBe("not-targeted");
  });
});

describe("pickWeighted", () => {
  it("maps [0, 1) onto cumulative weights and never picks a zero-weight variant", () => {
    const variants = [
      { name: "control", percentage: 20 },
      { name: "b", percentage: 0 },
      { name: "c", percentage: 80 },
    ];
    expect(pickWeighted(variants, 0)).toBe("control");
    expect(pickWeighted(variants, 0.1999)).toBe("control");
    expect(pickWeighted(variants, 0.2)).toBe("c");
    expect(pickWeighted(variants, 0.999999999)).toBe("c");
    expect(pickWeighted(variants, 1)).toBe("c");
  });
});
