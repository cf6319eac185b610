import { randomUUID } from "node:crypto";
import { acquirePGlite, releasePGlite } from "@/server/db/adapter";
import { createDatabase, type Database } from "@/server/db/client";
import { applyMigrations } from "@/server/db/migrations";
import { withPgClient } from "@/server/db/pg-client";
import type { DatabaseTarget } from "@/server/db/target";

/**
 * Real databases for integration tests, never fakes. PGlite always; PostgreSQL as well when
 * TEST_DATABASE_URL (or DATABASE_URL) points at a server. Each test database gets a unique name
 * and is dropped afterwards, so parallel runs never collide.
 */
export type DatabaseKind = "pglite" | "postgres";

export type TestDatabase = {
  kind: DatabaseKind;
  target: DatabaseTarget;
  db: Database;
  /** Closes the client and drops the database. */
  drop(): Promise<void>;
};

export function postgresAdminUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

/** The kinds this run covers: `describe.each(databaseKinds())`. */
export function databaseKinds(): DatabaseKind[] {
  return postgresAdminUrl() ? ["pglite", "postgres"] : ["pglite"];
}

export function uniqueDatabaseName(): string {
  return `verdict_test_${process.pid}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** An empty, unmigrated database of the given kind. */
export async function createEmptyDatabase(
  kind: DatabaseKind,
): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  const name = uniqueDatabaseName();
  if (kind === "pglite") {
    const dataDir = `memory://${name}`;
    // Hold the in-memory instance open for the whole test: releasing the last hold discards it.
    acquirePGlite(dataDir);
    return { target: { kind: "pglite", dataDir }, drop: () => releasePGlite(dataDir) };
  }
  const adminUrl = postgresAdminUrl();
  if (!adminUrl) throw new Error("PostgreSQL tests need TEST_DATABASE_URL or DATABASE_URL");
  await withPgClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    target: { kind: "postgres", url: url.toString() },
    drop: async () => {
      await withPgClient(adminUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    },
  };
}

/** A migrated database with an open Prisma client. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const empty = await createEmptyDatabase(kind);
  try {
    await applyMigrations(empty.target);
  } catch (error) {
    await empty.drop();
    throw error;
  }
  const handle = createDatabase(empty.target, { poolSize: 20 });
  return {
    kind,
    target: empty.target,
    db: handle.db,
    async drop() {
      await handle.close();
      await empty.drop();
    },
  };
}
