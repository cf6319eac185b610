import { z } from "zod";

/**
 * The one place that reads `process.env`. Everything else asks {@link getEnv}. A wrong or missing
 * variable stops start-up with a message naming it (see {@link EnvError}).
 */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => /^postgres(ql)?:\/\//.test(value), "must be a postgresql:// URL")
  .refine((value) => URL.canParse(value), "is not a valid URL");

const optionalPostgresUrl = z.preprocess(
  (value) => (value === "" ? undefined : value),
  postgresUrl.optional(),
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
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
});

export type Env = z.infer<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment: ${problems.join("; ")}`);
    this.name = "EnvError";
  }
}

/** Parses an environment; throws {@link EnvError} naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
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
