import { describe, expect, it } from "vitest";
import { clientIp, MemoryRateLimiter } from "@/server/rate-limit";

describe("MemoryRateLimiter", () => {
  it("allows the limit per window, then refuses with the seconds left, then allows again", async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i += 1) expect(await limiter.consume("a")).toEqual({ allowed: true });
    expect(await limiter.consume("a")).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(await limiter.consume("b")).toEqual({ allowed: true });
    now += 59_500;
    expect(await limiter.consume("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 500;
    expect(await limiter.consume("a")).toEqual({ allowed: true });
  });

  it("counts costs", async () => {
    const limiter = new MemoryRateLimiter(10, 1_000, () => 0);
    expect(await limiter.consume("k", 8)).toEqual({ allowed: true });
    expect((await limiter.consume("k", 3)).allowed).toBe(false);
    expect(await limiter.consume("k", 2)).toEqual({ allowed: true });
  });
});

describe("clientIp", () => {
  it("takes the first forwarded hop, then X-Real-IP", () => {
    expect(clientIp(new Headers({ "x-forwarded-for": "203.0.113.9, 10.0.0.1" }))).toBe("203.0.113.9");
    expect(clientIp(new Headers({ "x-real-ip": "198.51.100.4" }))).toBe("198.51.100.4");
    expect(clientIp(new Headers())).toBe("unknown");
  });
});
