import { z } from "zod";
import { ROLLUP_THRESHOLD } from "@/features/experiments/server/rollup-threshold";
import { DEFAULT_STICKY_CACHE_ENTRIES } from "@/features/experiments/server/sticky-cache";
import { DISPATCH_DEFAULTS } from "./events/delivery";

/**
 * The one place that reads `process.env`. Everything else asks {@link getEnv}. A wrong or missing
 * variable stops start-up with a message naming it (see {@link EnvError}).
 */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

const booleanFlag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((value) => value === "true" || value === "1");

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgresql:// URL")
  .refine((value) => URL.canParse(value), "is not a valid URL");

const optionalPostgresUrl = z.preprocess(
  (value) => (value === "" ? undefined : value),
  postgresUrl.optional(),
);
const optionalRedisUrl = z.preprocess(
  (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
  z
    .string()
    .trim()
    .refine((value) => /^rediss?:\/\//.test(value), "must be a redis:// or rediss:// URL")
    .refine((value) => URL.canParse(value), "is not a valid URL")
    .optional(),
);
const optionalEmail = z.preprocess(
  (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
  z.email().optional(),
);
const optionalPassword = z.preprocess(
  (value) => (value === "" ? undefined : value),
  z.string().min(8, "must be at least 8 characters").optional(),
);

export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** Real PostgreSQL. When unset, Verdict runs on the embedded PGlite in PGLITE_DATA_DIR. */
  DATABASE_URL: optionalPostgresUrl,
  PGLITE_DATA_DIR: z.string().trim().min(1).default(".data/pglite"),
  PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Signs session cookies. Generated and kept in the data folder when unset (not in production on PostgreSQL). */
  AUTH_SECRET: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.string().min(32, "must be at least 32 characters").optional(),
  ),
  NEXTAUTH_URL: z.preprocess((value) => (value === "" ? undefined : value), z.url().optional()),
  SEED_ADMIN_EMAIL: optionalEmail,
  SEED_ADMIN_PASSWORD: optionalPassword,
  SEED_MEMBER_EMAIL: optionalEmail,
  SEED_MEMBER_PASSWORD: optionalPassword,
  POSTHOG_API_KEY: optionalString,
  POSTHOG_HOST: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.url().default("https://us.i.posthog.com"),
  ),
  /** posthog-js options, off unless switched on (privacy by default). */
  POSTHOG_AUTOCAPTURE: booleanFlag,
  POSTHOG_SESSION_RECORDING: booleanFlag,
  POSTHOG_CAPTURE_PAGEVIEWS: booleanFlag,
  /** An optional second destination for events: a JSON POST signed with HMAC-SHA256. */
  EVENTS_WEBHOOK_URL: z.preprocess((value) => (value === "" ? undefined : value), z.url().optional()),
  EVENTS_WEBHOOK_SECRET: optionalString,
  /** Run the outbox dispatcher inside the app (default) or only as `npm run events:dispatch`. */
  EVENTS_DISPATCHER: z.enum(["in-app", "off"]).default("in-app"),
  /** How long a claimed batch stays reserved before another dispatcher may take it over. */
  EVENTS_LEASE_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(DISPATCH_DEFAULTS.leaseMs / 1000),
  /** Batches one dispatcher has in flight at once; a worker of its own can afford more. */
  EVENTS_DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(DISPATCH_DEFAULTS.concurrency),
  /** Events one claim takes, delivers (one PostHog request) and settles (one statement). */
  EVENTS_DISPATCH_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(DISPATCH_DEFAULTS.batchSize),
  /** Shared secret of the order webhook (Shopify's X-Shopify-Hmac-Sha256). */
  ORDER_WEBHOOK_SECRET: optionalString,
  /** GitHub OAuth app; the "Continue with GitHub" button appears when both are set. */
  GITHUB_ID: optionalString,
  GITHUB_SECRET: optionalString,
  /** Google OAuth client; the "Continue with Google" button appears when both are set. */
  GOOGLE_CLIENT_ID: optionalString,
  GOOGLE_CLIENT_SECRET: optionalString,
  /** Redis for rate limits shared by every instance; unset means per-process limits in memory. */
  REDIS_URL: optionalRedisUrl,
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
  /**
   * Public API calls per client address and minute: assignments (`experiments.*`) and event
   * batches (`events.track`, `POST /api/events`). Raise them when many users share one address
   * (a corporate proxy) or for load tests.
   */
  RATE_LIMIT_ASSIGNMENTS_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  /**
   * Returning subjects' variants each instance keeps in memory, so serving them again costs no
   * database read (assignments never change once stored; see sticky-cache.ts). 0 turns it off.
   */
  ASSIGNMENT_CACHE_ENTRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10_000_000)
    .default(DEFAULT_STICKY_CACHE_ENTRIES),
  /**
   * Tests with more assignments than this in a phase read their results from the daily rollups
   * (refreshed every few minutes) instead of the event store (exact, slower as tests grow).
   */
  RESULTS_ROLLUP_THRESHOLD: z.coerce.number().int().min(0).default(ROLLUP_THRESHOLD),
  /**
   * Parts one results view's event-store pass runs in at once on PostgreSQL, each on a connection
   * of the pool (10) and a core of the database: the cores the database may give one page load.
   */
  RESULTS_QUERY_PARALLELISM: z.coerce.number().int().min(1).max(8).default(2),
  RATE_LIMIT_EVENTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  /**
   * How many proxies on public addresses stand in front of Verdict and append to X-Forwarded-For
   * (see clientIp in rate-limit.ts). 1 suits the usual single reverse proxy or load balancer; 0
   * ignores X-Forwarded-For and X-Real-IP, for instances reachable without a proxy.
   */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(1),
  /**
   * How the server's requests follow their abort signal (see request-signal.ts): `following`, by
   * taking the caller's signal as their own, or `native`, Node's own way, whose finalization
   * registry costs each major garbage collection more marking.
   */
  REQUEST_SIGNAL: z.enum(["following", "native"]).default("following"),
});

export type Env = z.infer<typeof envSchema>;

/** Credentials that are useless on their own: half a pair is a typo or a lost line, not a choice. */
const PAIRS = [
  ["GITHUB_ID", "GITHUB_SECRET", "GitHub sign-in"],
  ["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "Google sign-in"],
] as const;

/** Settings that only make sense together. */
function crossCheck(env: Env): string[] {
  const problems: string[] = [];
  if (env.EVENTS_WEBHOOK_URL && !env.EVENTS_WEBHOOK_SECRET) {
    problems.push("EVENTS_WEBHOOK_SECRET is required when EVENTS_WEBHOOK_URL is set (deliveries are signed)");
  }
  for (const [first, second, purpose] of PAIRS) {
    if (env[first] && !env[second]) problems.push(`${second} is required when ${first} is set (${purpose})`);
    if (env[second] && !env[first]) problems.push(`${first} is required when ${second} is set (${purpose})`);
  }
  return problems;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment: ${problems.join("; ")}`);
    this.name = "EnvError";
  }
}

/** Parses an environment; throws {@link EnvError} naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) {
    const problems = crossCheck(result.data);
    if (problems.length) throw new EnvError(problems);
    return result.data;
  }
  throw new EnvError(
    result.error.issues.map((issue) => `${issue.path.join(".") || "environment"} ${issue.message}`),
  );
}

let cached: Env | undefined;

export function getEnv(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Tests and scripts that change process.env call this so the next {@link getEnv} re-reads it. */
export function resetEnvCache(): void {
  cached = undefined;
}
