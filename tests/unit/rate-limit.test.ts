import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EnvError, parseEnv, resetEnvCache } from "@/server/env";
import { clientIp, createRateLimiter, MemoryRateLimiter, retryAfterSeconds } from "@/server/rate-limit";

describe("MemoryRateLimiter", () => {
  it("allows the limit per window, then refuses with the seconds left, then allows again", async () => {
    let now = 1_000_000;
    const limiter = new MemoryRateLimiter(3, 60_000, () => now);
    expect(await limiter.consume("a")).toEqual({ allowed: true, remaining: 2 });
    expect(await limiter.consume("a")).toEqual({ allowed: true, remaining: 1 });
    expect(await limiter.consume("a")).toEqual({ allowed: true, remaining: 0 });
    expect(await limiter.consume("a")).toEqual({ allowed: false, retryAfterSeconds: 60, remaining: 0 });
    expect(await limiter.consume("b")).toEqual({ allowed: true, remaining: 2 });
    now += 59_500;
    expect(await limiter.consume("a")).toEqual({ allowed: false, retryAfterSeconds: 1, remaining: 0 });
    now += 500;
    expect(await limiter.consume("a")).toEqual({ allowed: true, remaining: 2 });
  });

  it("counts costs, and a refused request spends nothing", async () => {
    const limiter = new MemoryRateLimiter(10, 1_000, () => 0);
    expect(await limiter.consume("k", 8)).toEqual({ allowed: true, remaining: 2 });
    expect((await limiter.consume("k", 3)).allowed).toBe(false);
    expect(await limiter.consume("k", 2)).toEqual({ allowed: true, remaining: 0 });
  });

  it("keeps a window begun late in one generation of windows across the turn to the next", async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(3, 60_000, () => now);
    now = 50_000;
    for (let i = 0; i < 3; i += 1) await limiter.consume("late");
    now = 65_000; // a new generation begins: the window of "late" still has 45 s to run
    expect(await limiter.consume("late")).toEqual({ allowed: false, retryAfterSeconds: 45, remaining: 0 });
    now = 109_999;
    expect((await limiter.consume("late")).allowed).toBe(false);
    now = 110_000;
    expect(await limiter.consume("late")).toEqual({ allowed: true, remaining: 2 });
  });

  it("drops ended windows a generation at a time, and forgets everything after two idle windows", async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(5, 60_000, () => now);
    for (let i = 0; i < 1_000; i += 1) await limiter.consume(`early-${i}`);
    now = 30_000;
    for (let i = 0; i < 500; i += 1) await limiter.consume(`middle-${i}`);
    expect(limiter.trackedKeys).toBe(1_500);
    now = 60_000;
    await limiter.consume("x");
    // The 500 windows begun at 30 s still run: nothing of that generation goes yet.
    expect(limiter.trackedKeys).toBe(1_501);
    expect(await limiter.consume("middle-0")).toEqual({ allowed: true, remaining: 3 });
    now = 120_000;
    await limiter.consume("y");
    // Every window begun before 60 s has ended by 120 s: only x's and y's are held.
    expect(limiter.trackedKeys).toBe(2);
    now = 300_000;
    await limiter.consume("z");
    expect(limiter.trackedKeys).toBe(1);
    expect(await limiter.consume("x")).toEqual({ allowed: true, remaining: 4 });
  });

  it("gives each of many live keys its own budget, dropping none while its window runs", async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(1, 60_000, () => now);
    for (let i = 0; i < 150_000; i += 1) await limiter.consume(`visitor-${i}`);
    expect(limiter.trackedKeys).toBe(150_000);
    now = 59_000;
    expect((await limiter.consume("visitor-0")).allowed).toBe(false);
    expect((await limiter.consume("visitor-149999")).allowed).toBe(false);
  });

  it("reset gives one key its whole budget back and leaves the others alone", async () => {
    const limiter = new MemoryRateLimiter(2, 60_000, () => 0);
    for (const key of ["a", "a", "b", "b"]) await limiter.consume(key);
    await limiter.reset("a");
    expect(await limiter.consume("a")).toEqual({ allowed: true, remaining: 1 });
    expect((await limiter.consume("b")).allowed).toBe(false);
  });
});

describe("retryAfterSeconds", () => {
  it("rounds up to whole seconds and never says zero", () => {
    expect(retryAfterSeconds(60_000)).toBe(60);
    expect(retryAfterSeconds(1_001)).toBe(2);
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(-5)).toBe(1);
  });
});

describe("createRateLimiter without REDIS_URL", () => {
  beforeEach(() => {
    vi.stubEnv("REDIS_URL", "");
    resetEnvCache();
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    resetEnvCache();
  });

  it("limits in this process's memory, on the clock it is given", async () => {
    let now = 0;
    const limiter = createRateLimiter({ name: "unit", limit: 2, windowMs: 10_000, now: () => now });
    expect(await limiter.consume("x")).toEqual({ allowed: true, remaining: 1 });
    expect(await limiter.consume("x")).toEqual({ allowed: true, remaining: 0 });
    expect(await limiter.consume("x")).toEqual({ allowed: false, retryAfterSeconds: 10, remaining: 0 });
    now += 10_000;
    expect((await limiter.consume("x")).allowed).toBe(true);
    await limiter.consume("x");
    await limiter.reset("x");
    expect(await limiter.consume("x")).toEqual({ allowed: true, remaining: 1 });
  });

  it("keeps separate limiters' budgets apart even for the same key", async () => {
    const first = createRateLimiter({ name: "first", limit: 1, windowMs: 60_000 });
    const second = createRateLimiter({ name: "second", limit: 1, windowMs: 60_000 });
    expect((await first.consume("same")).allowed).toBe(true);
    expect((await second.consume("same")).allowed).toBe(true);
    expect((await first.consume("same")).allowed).toBe(false);
  });
});

describe("REDIS_URL", () => {
  it("is optional, and blank means unset", () => {
    expect(parseEnv({}).REDIS_URL).toBeUndefined();
    expect(parseEnv({ REDIS_URL: "  " }).REDIS_URL).toBeUndefined();
  });

  it("accepts redis:// and rediss:// URLs", () => {
    expect(parseEnv({ REDIS_URL: "redis://127.0.0.1:6379" }).REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(parseEnv({ REDIS_URL: " rediss://:secret@cache.example.com:6380/2 " }).REDIS_URL).toBe(
      "rediss://:secret@cache.example.com:6380/2",
    );
  });

  it("refuses anything else, naming the variable", () => {
    expect(() => parseEnv({ REDIS_URL: "127.0.0.1:6379" })).toThrow(EnvError);
    expect(() => parseEnv({ REDIS_URL: "http://127.0.0.1:6379" })).toThrow(/REDIS_URL must be a redis:\/\//);
  });
});

describe("clientIp", () => {
  const from = (forwardedFor: string | null, extra: Record<string, string> = {}) =>
    new Headers({ ...(forwardedFor === null ? {} : { "x-forwarded-for": forwardedFor }), ...extra });

  it("by default takes what the one proxy in front appended, not what the client wrote first", () => {
    expect(clientIp(from("203.0.113.9"), 1)).toBe("203.0.113.9");
    // A client's own X-Forwarded-For comes first; the proxy appends the address it really saw.
    expect(clientIp(from("1.2.3.4, 203.0.113.9"), 1)).toBe("203.0.113.9");
    expect(clientIp(from("1.2.3.4, 5.6.7.8, 203.0.113.9"), 1)).toBe("203.0.113.9");
    // Several header lines count as one list, in order.
    const lines = new Headers();
    lines.append("x-forwarded-for", "1.2.3.4");
    lines.append("x-forwarded-for", "203.0.113.9");
    expect(clientIp(lines, 1)).toBe("203.0.113.9");
  });

  it("reads the default from TRUSTED_PROXY_HOPS", () => {
    const saved = process.env.TRUSTED_PROXY_HOPS;
    try {
      delete process.env.TRUSTED_PROXY_HOPS;
      resetEnvCache();
      expect(clientIp(from("1.2.3.4, 203.0.113.9"))).toBe("203.0.113.9");
      process.env.TRUSTED_PROXY_HOPS = "2";
      resetEnvCache();
      expect(clientIp(from("198.51.100.4, 1.2.3.4, 203.0.113.9"))).toBe("1.2.3.4");
      process.env.TRUSTED_PROXY_HOPS = "0";
      resetEnvCache();
      expect(clientIp(from("203.0.113.9"))).toBe("unknown");
    } finally {
      if (saved === undefined) delete process.env.TRUSTED_PROXY_HOPS;
      else process.env.TRUSTED_PROXY_HOPS = saved;
      resetEnvCache();
    }
    expect(parseEnv({}).TRUSTED_PROXY_HOPS).toBe(1);
    expect(() => parseEnv({ TRUSTED_PROXY_HOPS: "-1" })).toThrow(/TRUSTED_PROXY_HOPS/);
    expect(() => parseEnv({ TRUSTED_PROXY_HOPS: "one" })).toThrow(/TRUSTED_PROXY_HOPS/);
  });

  it("skips hops on internal addresses: your own load balancer or sidecar is not the client", () => {
    expect(clientIp(from("203.0.113.9, 10.0.0.1"), 1)).toBe("203.0.113.9");
    expect(clientIp(from("1.2.3.4, 203.0.113.9, 172.16.4.2, 192.168.1.1, 127.0.0.1"), 1)).toBe("203.0.113.9");
    expect(clientIp(from("1.2.3.4, 2001:db8::7, fd00::1, fe80::1, ::1"), 1)).toBe("2001:db8::7");
    expect(clientIp(from("203.0.113.9, ::ffff:10.0.0.1, 169.254.169.254"), 1)).toBe("203.0.113.9");
    // 172.32/16 and 192.169/16 are public.
    expect(clientIp(from("1.2.3.4, 172.32.0.1"), 1)).toBe("172.32.0.1");
    expect(clientIp(from("1.2.3.4, 192.169.0.1"), 1)).toBe("192.169.0.1");
  });

  it("counts public proxies with more hops (a CDN in front of the load balancer)", () => {
    expect(clientIp(from("1.2.3.4, 198.51.100.4, 203.0.113.9"), 2)).toBe("198.51.100.4");
    expect(clientIp(from("1.2.3.4, 198.51.100.4, 203.0.113.9, 10.0.0.1"), 2)).toBe("198.51.100.4");
    // Fewer public entries than hops: the left-most entry, the furthest anyone reported.
    expect(clientIp(from("10.1.2.3, 10.0.0.1"), 1)).toBe("10.1.2.3");
    expect(clientIp(from("203.0.113.9"), 3)).toBe("203.0.113.9");
  });

  it("ignores ports, garbage and obfuscated entries", () => {
    expect(clientIp(from("1.2.3.4, 203.0.113.9:51234"), 1)).toBe("203.0.113.9");
    expect(clientIp(from("1.2.3.4, [2001:db8::7]:443"), 1)).toBe("2001:db8::7");
    expect(clientIp(from("203.0.113.9, unknown, , not-an-ip"), 1)).toBe("203.0.113.9");
  });

  it("falls back to X-Real-IP without X-Forwarded-For, then to unknown", () => {
    expect(clientIp(from(null, { "x-real-ip": "198.51.100.4" }), 1)).toBe("198.51.100.4");
    expect(clientIp(from("garbage", { "x-real-ip": "198.51.100.4" }), 1)).toBe("198.51.100.4");
    expect(clientIp(from(null, { "x-real-ip": "not an address" }), 1)).toBe("unknown");
    expect(clientIp(new Headers(), 1)).toBe("unknown");
  });

  it("with 0 hops trusts neither header: on an exposed instance both are the client's own words", () => {
    expect(clientIp(from("203.0.113.9", { "x-real-ip": "198.51.100.4" }), 0)).toBe("unknown");
  });
});
