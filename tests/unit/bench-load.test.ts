import { describe, expect, it } from "vitest";
import { roundOrder } from "../../bench/lib/interleave";
import { type Measurement, summarize } from "../../bench/lib/load";

const run = (overrides: Partial<Measurement>): Measurement => ({
  requests: 0,
  latenciesMs: [],
  errors: 0,
  non2xx: 0,
  durationSeconds: 1,
  appCpuSeconds: 0,
  databaseCpuSeconds: 0,
  ...overrides,
});

describe("interleaved load runs", () => {
  it("orders the rounds as a balanced Latin square: every position once, every predecessor once", () => {
    const workloads = ["floor", "returning", "elsewhere", "new"];
    const rounds = [0, 1, 2, 3].map((round) => roundOrder(workloads, round));
    expect(rounds).toEqual([
      ["floor", "returning", "new", "elsewhere"],
      ["returning", "elsewhere", "floor", "new"],
      ["elsewhere", "new", "returning", "floor"],
      ["new", "floor", "elsewhere", "returning"],
    ]);
    for (let position = 0; position < 4; position += 1) {
      expect(new Set(rounds.map((order) => order[position]))).toEqual(new Set(workloads));
    }
    // Within the rounds, each of the 12 ordered pairs of neighbours occurs exactly once.
    const pairs = rounds.flatMap((order) => order.slice(1).map((item, index) => `${order[index]}>${item}`));
    expect(pairs).toHaveLength(12);
    expect(new Set(pairs).size).toBe(12);
    // Odd counts still take every position once per cycle of rounds.
    const odd = [0, 1, 2, 3, 4].map((round) => roundOrder(["a", "b", "c", "d", "e"], round));
    for (let position = 0; position < 5; position += 1)
      expect(new Set(odd.map((order) => order[position])).size).toBe(5);
    expect(roundOrder(["a", "b"], 5)).toEqual(["b", "a"]);
    expect(roundOrder([], 3)).toEqual([]);
  });

  it("pools slices: rates over the summed time, percentiles over every answer, CPU per request", () => {
    const fast = run({
      requests: 100,
      durationSeconds: 1,
      latenciesMs: Array.from({ length: 100 }, () => 10),
      appCpuSeconds: 0.2,
      databaseCpuSeconds: 0.05,
    });
    const slow = run({
      requests: 100,
      durationSeconds: 3,
      latenciesMs: Array.from({ length: 100 }, (_, index) => (index < 10 ? 500 : 30)),
      errors: 2,
      errorCodes: { ECONNRESET: 2 },
      non2xx: 3,
      appCpuSeconds: 0.6,
      databaseCpuSeconds: 0.15,
    });
    const pooled = summarize("returning", [fast, slow]);
    expect(pooled.requests).toBe(200);
    expect(pooled.durationSeconds).toBe(4);
    // 200 requests in 4 s, not the mean of 100/s and 33/s.
    expect(pooled.requestsPerSecond).toBe(50);
    // Nearest rank: the 100th of 200 sorted answers is the fast slice's last.
    expect(pooled.p50Ms).toBe(10);
    // The slow slice's 10 outliers are 5% of all answers: above the 99th percentile's rank.
    expect(pooled.p99Ms).toBe(500);
    // And each slice's own: the tail is the slow slice's alone.
    expect(pooled.sliceP99Ms).toEqual([10, 500]);
    expect(pooled.errors).toBe(2);
    expect(pooled.errorCodes).toEqual({ ECONNRESET: 2 });
    expect(pooled.non2xx).toBe(3);
    expect(pooled.appCpuMs).toBeCloseTo(4, 10);
    expect(pooled.databaseCpuMs).toBeCloseTo(1, 10);
  });

  it("pools the paced slices' send lags into one p99, and has none for autocannon's runs", () => {
    const calm = run({ requests: 100, sendLagsMs: Array.from({ length: 100 }, () => 0.2) });
    const stalled = run({
      requests: 100,
      sendLagsMs: Array.from({ length: 100 }, (_, index) => (index < 5 ? 80 : 0.5)),
    });
    // Five late sends of 200 are above the 99th percentile's rank.
    expect(summarize("paced", [calm, stalled]).sendLagP99Ms).toBe(80);
    expect(summarize("paced", [calm]).sendLagP99Ms).toBe(0.2);
    expect(summarize("saturated", [run({ requests: 100 })])).not.toHaveProperty("sendLagP99Ms");
  });

  it("reports CPU as unknown when any slice could not read it", () => {
    const pooled = summarize("floor", [run({ requests: 10 }), run({ requests: 10, appCpuSeconds: null })]);
    expect(pooled.appCpuMs).toBeNull();
    expect(pooled.databaseCpuMs).toBe(0);
    expect(pooled.errorCodes).toBeUndefined();
  });
});
