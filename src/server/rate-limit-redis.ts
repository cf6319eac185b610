import { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { logger } from "./logger";
import {
  MemoryRateLimiter,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimiterOptions,
  retryAfterSeconds,
} from "./rate-limit";

/**
 * Rate limits shared by every instance through Redis (rate-limiter-flexible's atomic Lua
 * increment, one key per budget and subject, expiring with its window).
 *
 * When Redis is down, slow or not yet connected, requests are NOT refused and NOT let through
 * unlimited: each process falls back to its own in-memory budget and logs one warning per
 * outage. A rate limiter exists to protect the service, so it must not become the reason the
 * service is down; the worst case is N instances each allowing one budget until Redis is back.
 */
export type RedisConnectionOptions = {
  /** How long the first connection may take before requests fall back to memory. */
  connectTimeoutMs?: number;
  /** A Redis that accepts connections but does not answer must not hold requests up. */
  commandTimeoutMs?: number;
};

/** After a failure, requests skip Redis this long: a hung Redis then costs one timeout, not one per request. */
const PAUSE_AFTER_FAILURE_MS = 5_000;

export class RedisConnection {
  readonly client: Redis;
  private readonly firstAttempt: Promise<void>;
  private degraded = false;
  private skipUntil = 0;

  constructor(
    readonly url: string,
    options: RedisConnectionOptions = {},
  ) {
    const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
    this.client = new Redis(url, {
      lazyConnect: true,
      // Fail fast while disconnected (queued commands would hold requests until reconnection).
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: connectTimeoutMs,
      commandTimeout: options.commandTimeoutMs ?? 500,
      // Never give up reconnecting; back off to one attempt every five seconds.
      retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    });
    // Listening also keeps ioredis from printing "Unhandled error event" on every retry.
    this.client.on("error", (error) => this.noteFailure(error));
    this.client.on("ready", () => this.noteSuccess());
    const connecting = this.client.connect().catch((error) => this.noteFailure(error));
    this.firstAttempt = Promise.race([connecting, delay(connectTimeoutMs + 250)]);
  }

  /** True when commands can be sent now; the first call waits for the first connection attempt. */
  async usable(): Promise<boolean> {
    await this.firstAttempt;
    return this.client.status === "ready" && Date.now() >= this.skipUntil;
  }

  noteFailure(error: unknown): void {
    this.skipUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
    if (this.degraded) return;
    this.degraded = true;
    logger.warn("Redis is unreachable: rate limits fall back to each process's memory until it is back", {
      redis: redactedUrl(this.url),
      error: String(error),
    });
  }

  noteSuccess(): void {
    this.skipUntil = 0;
    if (!this.degraded) return;
    this.degraded = false;
    logger.info("Redis is reachable again: rate limits are shared across instances", {
      redis: redactedUrl(this.url),
    });
  }

  async close(): Promise<void> {
    // quit() waits for replies in flight; a connection that never came up just disconnects.
    if (this.client.status === "ready") await this.client.quit().catch(() => {});
    this.client.disconnect();
  }
}

const globalForRedis = globalThis as typeof globalThis & {
  __verdictRedisConnections?: Map<string, RedisConnection>;
};

/** One connection per process and URL, shared by every limiter (created on first use). */
export function sharedRedisConnection(url: string): RedisConnection {
  globalForRedis.__verdictRedisConnections ??= new Map();
  let connection = globalForRedis.__verdictRedisConnections.get(url);
  if (!connection) {
    connection = new RedisConnection(url);
    globalForRedis.__verdictRedisConnections.set(url, connection);
  }
  return connection;
}

/** Closes the process's shared connections (tests, and scripts that must exit promptly). */
export async function closeSharedRedisConnections(): Promise<void> {
  const connections = globalForRedis.__verdictRedisConnections;
  if (!connections) return;
  globalForRedis.__verdictRedisConnections = undefined;
  await Promise.all([...connections.values()].map((connection) => connection.close()));
}

export type RedisRateLimiterOptions = RateLimiterOptions & {
  connection: RedisConnection;
  /** Prefix of every key this app writes; tests use their own and delete it afterwards. */
  namespace?: string;
};

export const DEFAULT_NAMESPACE = "verdict:rl";

export class RedisRateLimiter implements RateLimiter {
  private readonly store: RateLimiterRedis;
  private readonly fallback: MemoryRateLimiter;
  private readonly connection: RedisConnection;

  constructor(options: RedisRateLimiterOptions) {
    if (options.windowMs % 1000 !== 0) {
      // Redis expiries are set in whole seconds here; a rounded window would be a silent change.
      throw new Error(`Rate limit "${options.name}": windowMs must be whole seconds in Redis`);
    }
    this.connection = options.connection;
    this.store = new RateLimiterRedis({
      storeClient: options.connection.client,
      keyPrefix: `${options.namespace ?? DEFAULT_NAMESPACE}:${options.name}`,
      points: options.limit,
      duration: options.windowMs / 1000,
      rejectIfRedisNotReady: true,
    });
    this.fallback = new MemoryRateLimiter(options.limit, options.windowMs, options.now);
  }

  async consume(key: string, cost = 1): Promise<RateLimitDecision> {
    if (!(await this.connection.usable())) return this.fallback.consume(key, cost);
    try {
      const spent = await this.store.consume(key, cost);
      this.connection.noteSuccess();
      return { allowed: true, remaining: spent.remainingPoints };
    } catch (outcome) {
      // rate-limiter-flexible rejects with its result when the budget is spent, with an Error
      // when the store failed.
      if (outcome instanceof RateLimiterRes) {
        this.connection.noteSuccess();
        return { allowed: false, retryAfterSeconds: retryAfterSeconds(outcome.msBeforeNext), remaining: 0 };
      }
      this.connection.noteFailure(outcome);
      return this.fallback.consume(key, cost);
    }
  }

  async reset(key: string): Promise<void> {
    // Both stores: what was counted in memory during an outage is forgiven too.
    await this.fallback.reset(key);
    if (!(await this.connection.usable())) return;
    try {
      await this.store.delete(key);
    } catch (error) {
      this.connection.noteFailure(error);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(invalid URL)";
  }
}
