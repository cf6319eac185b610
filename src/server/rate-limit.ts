import { getEnv } from "./env";

/**
 * Fixed-window rate limits behind one interface, with two stores:
 *
 * - memory (this file): per process. Right for one instance and the embedded database.
 * - Redis (rate-limit-redis.ts, rate-limiter-flexible): one budget shared by every instance.
 *
 * {@link createRateLimiter} picks the store from `REDIS_URL` on first use, so importing a module
 * that declares a limiter (the routers do, at load time) never connects to anything, and
 * `next build` stays free of network access.
 */
export type RateLimitDecision =
  | { allowed: true; remaining: number }
  | { allowed: false; retryAfterSeconds: number; remaining: 0 };

export interface RateLimiter {
  consume(key: string, cost?: number): Promise<RateLimitDecision>;
  /** Forgets what `key` used, e.g. a sign-in's failures once the right password arrives. */
  reset(key: string): Promise<void>;
}

export type RateLimitBudget = { limit: number; windowMs: number };

export type RateLimiterOptions = RateLimitBudget & {
  /** Names the budget. In Redis it prefixes the keys: every instance's limiter of that name shares them. */
  name: string;
  /** The clock of the in-memory store (tests move it); Redis keeps its own time. */
  now?: () => number;
};

/** Whole seconds, at least one: what a Retry-After header can carry. */
export function retryAfterSeconds(msLeft: number): number {
  return Math.max(1, Math.ceil(msLeft / 1000));
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, { start: number; used: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async consume(key: string, cost = 1): Promise<RateLimitDecision> {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, used: 0 };
      this.windows.set(key, window);
      if (this.windows.size > 100_000) this.sweep(now);
    }
    if (window.used + cost > this.limit) {
      return {
        allowed: false,
        retryAfterSeconds: retryAfterSeconds(window.start + this.windowMs - now),
        remaining: 0,
      };
    }
    window.used += cost;
    return { allowed: true, remaining: this.limit - window.used };
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  /** Bounds memory: forget windows that have ended. */
  private sweep(now: number) {
    for (const [key, window] of this.windows)
      if (now - window.start >= this.windowMs) this.windows.delete(key);
  }
}

/**
 * A limiter whose store follows the environment: Redis when `REDIS_URL` is set (one connection
 * per process, shared by every limiter), memory otherwise. Declare limiters once, at module level.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new ConfiguredRateLimiter(options);
}

class ConfiguredRateLimiter implements RateLimiter {
  private store: Promise<RateLimiter> | undefined;

  constructor(private readonly options: RateLimiterOptions) {}

  async consume(key: string, cost = 1): Promise<RateLimitDecision> {
    return (await this.chosenStore()).consume(key, cost);
  }

  async reset(key: string): Promise<void> {
    await (await this.chosenStore()).reset(key);
  }

  private chosenStore(): Promise<RateLimiter> {
    this.store ??= storeFor(this.options);
    return this.store;
  }
}

async function storeFor(options: RateLimiterOptions): Promise<RateLimiter> {
  const redisUrl = getEnv().REDIS_URL;
  if (!redisUrl) return new MemoryRateLimiter(options.limit, options.windowMs, options.now);
  // Loaded only when configured: the memory-only setup never loads the Redis client at all.
  const { RedisRateLimiter, sharedRedisConnection } = await import("./rate-limit-redis");
  return new RedisRateLimiter({ ...options, connection: sharedRedisConnection(redisUrl) });
}

/**
 * The caller's address as the nearest proxy reports it (first X-Forwarded-For hop). Only
 * trustworthy behind a proxy that overwrites the header: see docs/DEPLOYMENT.md.
 */
export function clientIp(headers: Headers): string {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip")?.trim() || "unknown";
}

export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests: try again in ${retryAfterSeconds} s`);
    this.name = "RateLimitedError";
  }
}
