import { randomUUID } from "node:crypto";
import { createServer, type Server, Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { resetEnvCache } from "@/server/env";
import { createRateLimiter } from "@/server/rate-limit";
import {
  closeSharedRedisConnections,
  DEFAULT_NAMESPACE,
  RedisConnection,
  RedisRateLimiter,
} from "@/server/rate-limit-redis";
import { redisAnswers } from "./redis-probe";

/**
 * Against the real Redis (TEST_REDIS_URL, default 127.0.0.1:6379). Every key this run writes
 * starts with its own prefix and is deleted afterwards. Skipped, saying so, when Redis is not
 * reachable.
 */
const redisUrl = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379";
const runId = `${process.pid}-${randomUUID().slice(0, 8)}`;
const namespace = `verdict-test:${runId}`;
/** createRateLimiter writes under the app's namespace: these names keep this run's keys apart. */
const appLimiterName = `int-test-${runId}`;

const redisUp = await redisAnswers(redisUrl);
if (!redisUp) console.warn(`Skipping the Redis rate-limit tests: no Redis answers at ${redisUrl}`);

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback TCP relay to Redis that the test can cut and restore, as a network failure or a
 * Redis restart would.
 */
async function startRelay(target: URL, port = 0) {
  const sockets = new Set<Socket>();
  let stalled = false;
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    client.pipe(upstream);
    // Replies are dropped while stalled: Redis that accepts commands and never answers.
    upstream.on("data", (chunk) => stalled || client.write(chunk));
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  const listen = (port: number) =>
    new Promise<number>((resolve) =>
      server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port)),
    );
  const bound = await listen(port);
  return {
    url: `redis://127.0.0.1:${bound}`,
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    restore: () => listen(bound),
    stall: () => {
      stalled = true;
    },
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!redisUp)("rate limits in Redis", () => {
  const connections: RedisConnection[] = [];
  const connect = (url = redisUrl) => {
    const connection = new RedisConnection(url, { connectTimeoutMs: 500 });
    connections.push(connection);
    return connection;
  };
  /** Two app instances: each its own connection, the same budget. */
  const twoInstances = (name: string, limit: number, windowMs: number) =>
    [connect(), connect()].map(
      (connection) => new RedisRateLimiter({ name, limit, windowMs, connection, namespace }),
    ) as [RedisRateLimiter, RedisRateLimiter];

  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    resetEnvCache();
  });

  afterAll(async () => {
    const cleaner = new Redis(redisUrl);
    for (const pattern of [`${namespace}:*`, `${DEFAULT_NAMESPACE}:${appLimiterName}*`]) {
      const keys = await cleaner.keys(pattern);
      if (keys.length) await cleaner.del(...keys);
    }
    expect(await cleaner.keys(`${namespace}:*`)).toEqual([]);
    await cleaner.quit();
    await Promise.all(connections.map((connection) => connection.close()));
    await closeSharedRedisConnections();
  });

  it("shares one budget between two instances", async () => {
    const [first, second] = twoInstances("shared", 5, 60_000);
    const decisions = [];
    for (let i = 0; i < 6; i += 1) decisions.push(await (i % 2 === 0 ? first : second).consume("visitor-1"));
    expect(decisions.slice(0, 5).map((decision) => decision.allowed)).toEqual([true, true, true, true, true]);
    expect(decisions.slice(0, 5).map((decision) => decision.remaining)).toEqual([4, 3, 2, 1, 0]);
    const refused = decisions[5];
    expect(refused?.allowed).toBe(false);
    if (refused?.allowed === false) {
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    }
    // Another key has its own budget, on either instance.
    expect(await second.consume("visitor-2")).toEqual({ allowed: true, remaining: 4 });
  });

  it("counts concurrent requests from both instances exactly (atomic increments)", async () => {
    const [first, second] = twoInstances("concurrent", 50, 60_000);
    const decisions = await Promise.all(
      Array.from({ length: 80 }, (_, i) => (i % 2 === 0 ? first : second).consume("burst")),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(50);
  });

  it("counts costs", async () => {
    const [first, second] = twoInstances("costs", 10, 60_000);
    expect(await first.consume("k", 7)).toEqual({ allowed: true, remaining: 3 });
    expect((await second.consume("k", 4)).allowed).toBe(false);
  });

  it("opens a new window once the old one expires", async () => {
    const [first, second] = twoInstances("expiry", 2, 1_000);
    await first.consume("k");
    await second.consume("k");
    const refused = await first.consume("k");
    expect(refused).toEqual({ allowed: false, retryAfterSeconds: 1, remaining: 0 });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await second.consume("k")).toEqual({ allowed: true, remaining: 1 });
  });

  it("reset on one instance gives the budget back on the other", async () => {
    const [first, second] = twoInstances("reset", 3, 60_000);
    for (let i = 0; i < 3; i += 1) await first.consume("owner@example.com");
    expect((await second.consume("owner@example.com")).allowed).toBe(false);
    await second.reset("owner@example.com");
    expect(await first.consume("owner@example.com")).toEqual({ allowed: true, remaining: 2 });
  });

  it("createRateLimiter uses Redis when REDIS_URL is set, under the app's key prefix", async () => {
    vi.stubEnv("REDIS_URL", redisUrl);
    resetEnvCache();
    const first = createRateLimiter({ name: appLimiterName, limit: 2, windowMs: 60_000 });
    const second = createRateLimiter({ name: appLimiterName, limit: 2, windowMs: 60_000 });
    await first.consume("ip-1");
    await second.consume("ip-1");
    expect((await first.consume("ip-1")).allowed).toBe(false);
    const inspector = new Redis(redisUrl);
    expect(await inspector.keys(`${DEFAULT_NAMESPACE}:${appLimiterName}:*`)).toEqual([
      `${DEFAULT_NAMESPACE}:${appLimiterName}:ip-1`,
    ]);
    await inspector.quit();
  });

  it("falls back to per-process memory limits, with one warning, when Redis is unreachable", async () => {
    const warnings = vi.spyOn(console, "error").mockImplementation(() => {});
    const port = await closedPort();
    const limiter = new RedisRateLimiter({
      name: "down",
      limit: 3,
      windowMs: 60_000,
      connection: connect(`redis://127.0.0.1:${port}`),
      namespace,
    });
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await limiter.consume("k"));
    // Neither refused outright nor unlimited: the same budget, counted in this process.
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, false]);
    await limiter.reset("k");
    expect((await limiter.consume("k")).allowed).toBe(true);
    const logged = warnings.mock.calls
      .map((call) => String(call[0]))
      .filter((line) => line.includes("Redis"));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0] ?? "{}")).toMatchObject({
      level: "warn",
      redis: `redis://127.0.0.1:${port}`,
    });
  });

  it("starts without Redis, limits in memory, and shares the budget once Redis comes up", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const port = await closedPort();
    const connection = connect(`redis://127.0.0.1:${port}`);
    const late = new RedisRateLimiter({ name: "late", limit: 2, windowMs: 60_000, connection, namespace });
    expect(await late.consume("k")).toEqual({ allowed: true, remaining: 1 });

    const relay = await startRelay(new URL(redisUrl), port);
    try {
      await waitFor(() => connection.client.status === "ready", 10_000);
      const [direct] = twoInstances("late", 2, 60_000);
      expect(await direct.consume("k")).toEqual({ allowed: true, remaining: 1 });
      expect(await late.consume("k")).toEqual({ allowed: true, remaining: 0 });
      expect((await direct.consume("k")).allowed).toBe(false);
    } finally {
      // Closed first, so its reconnection attempts do not log into the next test.
      await connection.close();
      await relay.cut();
    }
  });

  it("does not hold requests up when Redis stops answering: one timeout, then memory for a while", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const relay = await startRelay(new URL(redisUrl));
    const connection = new RedisConnection(relay.url, { commandTimeoutMs: 1_500 });
    connections.push(connection);
    const limiter = new RedisRateLimiter({ name: "hung", limit: 2, windowMs: 60_000, connection, namespace });
    try {
      expect(await limiter.consume("k")).toEqual({ allowed: true, remaining: 1 });
      relay.stall();
      // This one waits for the command timeout, then counts in memory.
      expect(await limiter.consume("k")).toEqual({ allowed: true, remaining: 1 });
      // The next ones do not wait for Redis at all (well under one command timeout).
      const started = Date.now();
      expect(await limiter.consume("k")).toEqual({ allowed: true, remaining: 0 });
      expect((await limiter.consume("k")).allowed).toBe(false);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await connection.close();
      await relay.cut();
    }
  });

  it("keeps limiting when Redis goes away after connecting, and shares again once it is back", async () => {
    const warnings = vi.spyOn(console, "error").mockImplementation(() => {});
    const relay = await startRelay(new URL(redisUrl));
    const connection = connect(relay.url);
    const viaRelay = new RedisRateLimiter({
      name: "outage",
      limit: 2,
      windowMs: 60_000,
      connection,
      namespace,
    });
    const [direct] = twoInstances("outage", 2, 60_000);
    expect(await viaRelay.consume("k")).toEqual({ allowed: true, remaining: 1 });

    await relay.cut();
    // Redis is out of reach: the memory budget (fresh, since nothing was counted there) applies.
    expect((await viaRelay.consume("k")).allowed).toBe(true);
    expect((await viaRelay.consume("k")).allowed).toBe(true);
    expect((await viaRelay.consume("k")).allowed).toBe(false);
    expect(warnings.mock.calls.some((call) => String(call[0]).includes("Redis is unreachable"))).toBe(true);

    // The shared count kept what reached Redis before the cut.
    expect(await direct.consume("k")).toEqual({ allowed: true, remaining: 0 });

    await relay.restore();
    await waitFor(() => connection.client.status === "ready", 10_000);
    // Shared again: the budget the other instance spent is spent here too.
    expect((await viaRelay.consume("k")).allowed).toBe(false);
    const lines = warnings.mock.calls.map((call) => String(call[0]));
    expect(lines.filter((line) => line.includes("Redis is unreachable"))).toHaveLength(1);
    await connection.close();
    await relay.cut();
  });
});
