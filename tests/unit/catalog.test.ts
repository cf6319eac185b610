import { describe, expect, it } from "vitest";
import { ExperimentCatalog } from "@/features/experiments/server/catalog";
import type { StoredExperiment } from "@/features/experiments/server/repository";

const stored = (slug: string, metadata: unknown, version = 1): StoredExperiment => ({
  slug,
  enabled: true,
  description: "",
  metadata,
  version,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

const valid = {
  variants: [
    { name: "control", percentage: 50 },
    { name: "treatment", percentage: 50 },
  ],
  scope: "visitor",
  status: "running",
};

describe("ExperimentCatalog", () => {
  it("loads once, serves from memory, and reloads after invalidation", async () => {
    let loads = 0;
    let version = 1;
    const catalog = new ExperimentCatalog(async () => {
      loads += 1;
      return [stored("a-test", valid, version)];
    });
    const [first, second] = await Promise.all([catalog.getSnapshot(), catalog.getSnapshot()]);
    expect(first).toBe(second);
    expect(loads).toBe(1);
    expect(first.experiments.get("a-test")?.config.trafficPercent).toBe(100);
    version = 2;
    catalog.invalidate();
    expect((await catalog.getSnapshot()).experiments.get("a-test")?.version).toBe(2);
    expect(loads).toBe(2);
  });

  it("does not keep a load that a change overtook", async () => {
    let release: () => void = () => {};
    let version = 1;
    const catalog = new ExperimentCatalog(async () => {
      const seen = version;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return [stored("a-test", valid, seen)];
    });
    const stale = catalog.getSnapshot();
    version = 2;
    catalog.invalidate();
    release();
    expect((await stale).experiments.get("a-test")?.version).toBe(1);
    const fresh = catalog.getSnapshot();
    release();
    expect((await fresh).experiments.get("a-test")?.version).toBe(2);
  });

  it("expires after maxAgeMs as a safety net", async () => {
    let now = 0;
    let loads = 0;
    const catalog = new ExperimentCatalog(
      async () => {
        loads += 1;
        return [];
      },
      { maxAgeMs: 1_000, now: () => now },
    );
    await catalog.getSnapshot();
    now = 999;
    await catalog.getSnapshot();
    now = 1_000;
    await catalog.getSnapshot();
    expect(loads).toBe(2);
  });

  it("keeps broken configurations aside, naming the experiment", async () => {
    const catalog = new ExperimentCatalog(async () => [
      stored("good-one", valid),
      stored("bad-one", { variants: 3 }),
    ]);
    const snapshot = await catalog.getSnapshot();
    expect([...snapshot.experiments.keys()]).toEqual(["good-one"]);
    expect(snapshot.broken.get("bad-one")?.error.message).toMatch(
      /^Experiment "bad-one" has an invalid configuration: /,
    );
  });

  it("sets aside metadata whose fields parse but cannot be served, naming each problem", async () => {
    const unservable = {
      ...valid,
      variants: [
        { name: "a", percentage: 100 },
        { name: "b", percentage: 50 },
      ],
      winnerVariant: "nope",
    };
    const catalog = new ExperimentCatalog(async () => [
      stored("good-one", valid),
      stored("unservable", unservable),
    ]);
    const snapshot = await catalog.getSnapshot();
    expect([...snapshot.experiments.keys()]).toEqual(["good-one"]);
    const error = snapshot.broken.get("unservable")?.error;
    expect(error?.slug).toBe("unservable");
    expect(error?.issues).toEqual([
      'variants: Exactly one variant is named "control" (found 0).',
      "variants: Percentages must add up to 100 (they add up to 150).",
      'winnerVariant: The winner "nope" is not a variant of this experiment (a, b).',
    ]);
  });

  it("keeps the row's enabled flag beside the configuration", async () => {
    const catalog = new ExperimentCatalog(async () => [{ ...stored("switched-off", valid), enabled: false }]);
    const experiment = (await catalog.getSnapshot()).experiments.get("switched-off");
    expect(experiment).toMatchObject({ enabled: false, config: { status: "running" } });
  });
});
