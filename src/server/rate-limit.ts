/**
 * Fixed-window rate limiting in memory: per process, which is right for one instance and the
 * embedded database. (Shared limits across instances, through Redis, are the speed-and-scale
 * issue's work; this interface stays.)
 */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  consume(key: string, cost?: number): Promise<RateLimitDecision>;
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
        retryAfterSeconds: Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000)),
      };
    }
    window.used += cost;
    return { allowed: true };
  }

  /** Forgets what `key` used, e.g. a sign-in's failures once the right password arrives. */
  reset(key: string): void {
    this.windows.delete(key);
  }

  /** Bounds memory: forget windows that have ended. */
  private sweep(now: number) {
    for (const [key, window] of this.windows)
      if (now - window.start >= this.windowMs) this.windows.delete(key);
  }
}

/** The caller's address as the nearest proxy reports it (first X-Forwarded-For hop). */
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
