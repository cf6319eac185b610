import path from "node:path";
import type { Env } from "../env";

/** Where the data lives: a real PostgreSQL server, or the embedded PGlite in a folder (or memory). */
export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "pglite"; dataDir: string };

export function databaseTargetFromEnv(env: Pick<Env, "DATABASE_URL" | "PGLITE_DATA_DIR">): DatabaseTarget {
  if (env.DATABASE_URL) return { kind: "postgres", url: env.DATABASE_URL };
  return { kind: "pglite", dataDir: path.resolve(env.PGLITE_DATA_DIR) };
}

/** A description for logs: never prints a password. */
export function describeTarget(target: DatabaseTarget): string {
  if (target.kind === "pglite") return `embedded PGlite (${target.dataDir})`;
  const url = new URL(target.url);
  return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
