import { describe, expect, it } from "vitest";
import type { CatalogExperiment } from "@/features/experiments/server/catalog";
import { StickyAssignmentCache } from "@/features/experiments/server/sticky-cache";
import { testConfig } from "./experiment-configs";

const experiment = (
  slug: string,
  options: { phase?: number; createdAt?: number } = {},
): CatalogExperiment => ({
  slug,
  enabled: true,
  description: "",
  version: 1,
  createdAt: new Date(options.createdAt ?? 1_000),
  updatedAt: new Date(options.createdAt ?? 1_000),
  config: testConfig({ status: "running", phase: options.phase ?? 1 }),
});

const visitor = (id: string) => ({ kind: "visitor" as const, id });

describe("StickyAssignmentCache", () => {
  it("answers only what it was given, per experiment, phase and subject", () => {
    const cache = new StickyAssignmentCache(10);
    const hero = experiment("hero");
    expect(cache.get(hero, visitor("v1"))).toBeUndefined();
    cache.set(hero, visitor("v1"), "treatment");
    expect(cache.get(hero, visitor("v1"))).toBe("treatment");
    expect(cache.get(hero, visitor("v2"))).toBeUndefined();
    expect(cache.get(hero, { kind: "user", id: "v1" })).toBeUndefined();
    expect(cache.get(experiment("other"), visitor("v1"))).toBeUndefined();
  });

  it("forgets nothing it must not serve: a new phase and a recreated experiment start empty", () => {
    const cache = new StickyAssignmentCache(10);
    cache.set(experiment("hero"), visitor("v1"), "treatment");
    expect(cache.get(experiment("hero", { phase: 2 }), visitor("v1"))).toBeUndefined();
    expect(cache.get(experiment("hero", { createdAt: 2_000 }), visitor("v1"))).toBeUndefined();
    expect(cache.get(experiment("hero"), visitor("v1"))).toBe("treatment");
  });

  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = new StickyAssignmentCache(2);
    const hero = experiment("hero");
    cache.set(hero, visitor("a"), "control");
    cache.set(hero, visitor("b"), "treatment");
    // Reading "a" makes "b" the least recently used.
    expect(cache.get(hero, visitor("a"))).toBe("control");
    cache.set(hero, visitor("c"), "control");
    expect(cache.size).toBe(2);
    expect(cache.get(hero, visitor("b"))).toBeUndefined();
    expect(cache.get(hero, visitor("a"))).toBe("control");
    expect(cache.get(hero, visitor("c"))).toBe("control");
  });

  it("with no room keeps nothing", () => {
    const cache = new StickyAssignmentCache(0);
    cache.set(experiment("hero"), visitor("v1"), "treatment");
    expect(cache.size).toBe(0);
    expect(cache.get(experiment("hero"), visitor("v1"))).toBeUndefined();
  });
});
