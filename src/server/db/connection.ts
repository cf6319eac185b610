import pg from "pg";
import type { DatabaseTarget } from "./target";

/** A database that cannot be used, explained in one line a person can act on. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatabaseUnavailableError";
  }
}

type PgLikeError = { code?: string; message?: string; errno?: number };

export function describeConnectionError(error: unknown, url: string): string {
  const parsed = new URL(url);
  const where = `${parsed.hostname}:${parsed.port || 5432}`;
  const user = decodeURIComponent(parsed.username || "postgres");
  const database = decodeURIComponent(parsed.pathname.slice(1) || user);
  const { code, message } = (error ?? {}) as PgLikeError;
  switch (code) {
    case "ECONNREFUSED":
      return `Cannot connect to PostgreSQL at ${where}: connection refused. Is the server running? (DATABASE_URL)`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `Cannot resolve the PostgreSQL host "${parsed.hostname}" (DATABASE_URL).`;
    case "ETIMEDOUT":
      return `Timed out connecting to PostgreSQL at ${where} (DATABASE_URL).`;
    case "28P01":
      return `PostgreSQL at ${where} rejected the password for user "${user}" (DATABASE_URL).`;
    case "28000":
      return `PostgreSQL at ${where} does not allow user "${user}" to connect (DATABASE_URL).`;
    case "3D000":
      return `PostgreSQL at ${where} has no database "${database}": create it first (createdb ${database}).`;
    default:
      if (message?.includes("timeout"))
        return `Timed out connecting to PostgreSQL at ${where} (DATABASE_URL).`;
      return `Cannot use PostgreSQL at ${where}: ${message ?? String(error)} (DATABASE_URL).`;
  }
}

/**
 * Fails fast, before migrations or the app start, with one clear line instead of a stack trace
 * from deep inside the driver. PGlite needs no check: it is opened in-process.
 */
export async function assertDatabaseReachable(target: DatabaseTarget): Promise<void> {
  if (target.kind !== "postgres") return;
  const client = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
  } catch (error) {
    throw new DatabaseUnavailableError(describeConnectionError(error, target.url), { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}
