import { isIP } from "node:net";
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

type Window = { start: number; used: number };

/**
 * Windows start at a key's first request. They are kept in two generations of `windowMs` each, so
 * a live window is always in one of them and a generation is dropped whole once every window in it
 * has ended: each request costs one or two map lookups, whatever the number of keys. (A sweep of
 * ended windows whenever the map grew past a size cost a pass over every key per new key once that
 * many were live: at a couple of thousand new visitors a second, on every request.) Memory is the
 * keys seen in the last one to two windows.
 */
export class MemoryRateLimiter implements RateLimiter {
  private current = new Map<string, Window>();
  private previous = new Map<string, Window>();
  private generationStart: number;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.generationStart = now();
  }

  async consume(key: string, cost = 1): Promise<RateLimitDecision> {
    const now = this.now();
    this.rotate(now);
    let window = this.current.get(key) ?? this.previous.get(key);
    if (!window || now - window.start >= this.windowMs) {
      window = { start: now, used: 0 };
      this.current.set(key, window);
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
    this.current.delete(key);
    this.previous.delete(key);
  }

  /** Keys with a window held (live, or ended but not yet dropped with its generation). */
  get trackedKeys(): number {
    return this.current.size + this.previous.size;
  }

  /**
   * A window begun in the previous generation ends before the next rotation (which comes a whole
   * generation later at the earliest), so that generation can go as a whole then.
   */
  private rotate(now: number) {
    const age = now - this.generationStart;
    if (age < this.windowMs) return;
    this.previous = age >= 2 * this.windowMs ? new Map() : this.current;
    this.current = new Map();
    this.generationStart = now;
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

/** "203.0.113.9:51234" and "[2001:db8::1]:443" (some load balancers add the port) to bare addresses. */
function bareAddress(entry: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed?.[1]) return bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(entry);
  return v4WithPort?.[1] ?? entry;
}

/**
 * Loopback, link-local and private (unique-local) addresses: Express's `loopback, linklocal,
 * uniquelocal`. Such an address in X-Forwarded-For is a hop inside your own network (the load
 * balancer in front of the reverse proxy, a sidecar), never the internet client being limited.
 */
export function isInternalAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) {
    const [a = 0, b = 0] = address.split(".").map(Number);
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  if (version !== 6) return false;
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (mapped?.[1]) return isInternalAddress(mapped[1]);
  return lower === "::1" || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
}

/**
 * The caller's address, for per-address limits. X-Forwarded-For is a list every proxy appends
 * the address it saw to: a client can put anything at its start, but nothing after what your
 * first proxy appended. So it is read from the right: internal hops ({@link isInternalAddress})
 * are skipped, then `trustedHops` counts the proxies on public addresses, and the address that
 * many steps in is the client. With the default 1, that is what the one reverse proxy or load
 * balancer in front wrote, whatever the client sent; a CDN in front of it makes 2. With fewer
 * public entries than that (a client on your own network), the left-most entry is used.
 * Without X-Forwarded-For, X-Real-IP (which nginx overwrites). With 0, neither header is read:
 * for instances reachable without a proxy, where both are the client's own words; every request
 * then counts as `unknown`. See docs/DEPLOYMENT.md.
 */
export function clientIp(headers: Headers, trustedHops = getEnv().TRUSTED_PROXY_HOPS): string {
  if (trustedHops <= 0) return "unknown";
  const hops = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => bareAddress(entry.trim()))
    // Garbage and RFC 7239's "unknown" are no address to key on, wherever they are.
    .filter((entry) => isIP(entry) !== 0);
  if (!hops.length) {
    const realIp = bareAddress(headers.get("x-real-ip")?.trim() ?? "");
    return isIP(realIp) ? realIp : "unknown";
  }
  let remaining = trustedHops;
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = hops[index] as string;
    if (isInternalAddress(hop)) continue;
    remaining -= 1;
    if (remaining === 0) return hop;
  }
  return hops[0] as string;
}

export class RateLimitedError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super(`Too many requests: try again in ${retryAfterSeconds} s`);
    this.name = "RateLimitedError";
  }
}
