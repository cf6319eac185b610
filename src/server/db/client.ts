import { PrismaClient } from "@/generated/prisma/client";
import { getEnv } from "../env";
import { openAdapter } from "./adapter";
import { poolRunner, registerSqlRunner } from "./sql";
import { type DatabaseTarget, databaseTargetFromEnv } from "./target";

export type Database = PrismaClient;

export type DatabaseHandle = {
  db: PrismaClient;
  target: DatabaseTarget;
  /** Disconnects Prisma and releases the embedded database. */
  close(): Promise<void>;
};

/** Opens a client on an explicit target (scripts, tests). The app uses {@link getDb}. */
export function createDatabase(target: DatabaseTarget, options: { poolSize?: number } = {}): DatabaseHandle {
  const adapter = openAdapter(target, options);
  const db = new PrismaClient({ adapter: adapter.factory });
  if (adapter.pool) registerSqlRunner(db, poolRunner(adapter.pool));
  return {
    db,
    target,
    async close() {
      await db.$disconnect();
      await adapter.close();
    },
  };
}

// One client per process, kept on globalThis so hot reload does not open a second PGlite on the
// same folder (which would corrupt it) or leak PostgreSQL pools.
const globalForDb = globalThis as typeof globalThis & { __verdictDb?: DatabaseHandle };

/**
 * The process-wide database client, created on first use: nothing connects at import time, so
 * `next build` never touches a database.
 */
export function getDb(): PrismaClient {
  globalForDb.__verdictDb ??= createDatabase(databaseTargetFromEnv(getEnv()));
  return globalForDb.__verdictDb.db;
}

export async function closeDb(): Promise<void> {
  const handle = globalForDb.__verdictDb;
  globalForDb.__verdictDb = undefined;
  await handle?.close();
}
