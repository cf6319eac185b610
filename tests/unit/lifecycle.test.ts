import { describe, expect, it } from "vitest";
import type { ExperimentConfig } from "@/features/experiments/core/config";
import {
  applyConfigChange,
  applyTransition,
  applyWinner,
  isEnabled,
} from "@/features/experiments/core/lifecycle";
import { testConfig } from "./experiment-configs";

const now = new Date("2026-11-24T12:00:00.000Z");
const base = testConfig;

function expectOk(outcome: ReturnType<typeof applyTransition>): ExperimentConfig {
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.config;
}

describe("lifecycle transitions", () => {
  it("walks draft → running → paused → running → concluded, stamping times", () => {
    const running = expectOk(applyTransition(base(), "start", now));
    expect(running).toMatchObject({ status: "running", startedAt: now.toISOString() });
    expect(isEnabled(running)).toBe(true);
    const paused = expectOk(applyTransition(running, "pause", now));
    expect(paused).toMatchObject({ status: "paused", pausedAt: now.toISOString() });
    expect(isEnabled(paused)).toBe(false);
    const resumed = expectOk(applyTransition(paused, "resume", now));
    expect(resumed).toMatchObject({ status: "running", pausedAt: null });
    const concluded = expectOk(applyTransition(resumed, "conclude", now, { winner: "treatment" }));
    expect(concluded).toMatchObject({
      status: "concluded",
      endedAt: now.toISOString(),
      winnerVariant: "treatment",
    });
    expect(isEnabled(concluded)).toBe(false);
  });

  it.each([
    [
      "draft",
      "conclude",
      "Cannot conclude an experiment that is draft: only a running or paused experiment can be concluded.",
    ],
    ["draft", "pause", "Cannot pause an experiment that is draft: only a running experiment can be paused."],
    ["concluded", "start", "Cannot start an experiment that is concluded: only a draft can be started."],
    [
      "running",
      "resume",
      "Cannot resume an experiment that is running: only a paused experiment can be resumed.",
    ],
  ] as const)("refuses %s → %s with a reason", (status, action, reason) => {
    expect(applyTransition(base({ status }), action, now)).toEqual({ ok: false, reason });
  });

  it("accepts only a variant as the winner", () => {
    expect(applyTransition(base({ status: "running" }), "conclude", now, { winner: "blue" })).toEqual({
      ok: false,
      reason: 'The winner "blue" is not a variant of this experiment (control, treatment).',
    });
    expect(applyWinner(base({ status: "running" }), "control").ok).toBe(false);
    expect(expectOk(applyWinner(base({ status: "concluded" }), "control")).winnerVariant).toBe("control");
  });
});

describe("configuration changes", () => {
  const newSplit = [
    { name: "control", percentage: 30 },
    { name: "treatment", percentage: 70 },
  ];

  it("lets everything change in a draft", () => {
    const changed = expectOk(
      applyConfigChange(base(), { variants: newSplit, scope: "user", trafficPercent: 10 }),
    );
    expect(changed).toMatchObject({ scope: "user", trafficPercent: 10, phase: 1 });
  });

  it("asks how to apply new weights to a started test, and re-randomizing starts a new phase", () => {
    const running = base({ status: "running" });
    const refused = applyConfigChange(running, { variants: newSplit });
    expect(refused.ok).toBe(false);
    expect(expectOk(applyConfigChange(running, { variants: newSplit }, "keep"))).toMatchObject({ phase: 1 });
    expect(expectOk(applyConfigChange(running, { variants: newSplit }, "rerandomize"))).toMatchObject({
      phase: 2,
    });
    // An explicit re-randomization reshuffles even when the split is unchanged, and may lower traffic.
    expect(expectOk(applyConfigChange(running, {}, "rerandomize")).phase).toBe(2);
    expect(
      expectOk(
        applyConfigChange(
          base({ status: "running", trafficPercent: 50 }),
          { trafficPercent: 20 },
          "rerandomize",
        ),
      ),
    ).toMatchObject({ phase: 2, trafficPercent: 20 });
    expect(applyConfigChange(base(), {}, "rerandomize")).toEqual({
      ok: false,
      reason: "A draft has no assignments to re-randomize.",
    });
    expect(applyConfigChange(base({ status: "concluded" }), {}, "rerandomize").ok).toBe(false);
  });

  it("fixes the design once started, and lets traffic only grow", () => {
    const running = base({ status: "running", trafficPercent: 50 });
    expect(applyConfigChange(running, { scope: "team" })).toEqual({
      ok: false,
      reason: "The scope can only change while the experiment is a draft.",
    });
    expect(applyConfigChange(running, { trafficPercent: 40 }).ok).toBe(false);
    expect(expectOk(applyConfigChange(running, { trafficPercent: 80 })).trafficPercent).toBe(80);
    expect(
      expectOk(
        applyConfigChange(running, { targetingRules: { plans: ["teams"] }, conversionEvents: ["signup"] }),
      ),
    ).toMatchObject({
      targetingRules: { plans: ["teams"] },
      conversionEvents: ["signup"],
    });
  });

  it("refuses invalid variants with every problem", () => {
    const outcome = applyConfigChange(base(), {
      variants: [
        { name: "a", percentage: 10 },
        { name: "a", percentage: 10 },
      ],
    });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) {
      expect(outcome.reason).toMatch(/control/);
      expect(outcome.reason).toMatch(/100/);
    }
  });
});
