import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Env, EnvError } from "../env";

/**
 * The secret that signs session cookies. Set AUTH_SECRET in any shared deployment (every instance
 * needs the same one). For the zero-configuration embedded default, one is generated on first
 * start and kept beside the PGlite folder, so sessions survive restarts.
 */
export function resolveAuthSecret(env: Env): string {
  if (env.AUTH_SECRET) return env.AUTH_SECRET;
  if (env.NODE_ENV === "production" && env.DATABASE_URL) {
    throw new EnvError([
      "AUTH_SECRET is required in production on PostgreSQL (all instances must share it; e.g. openssl rand -base64 48)",
    ]);
  }
  const file = path.join(path.dirname(path.resolve(env.PGLITE_DATA_DIR)), "auth-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
