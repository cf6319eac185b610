import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { DatabaseTarget } from "./target";

export type OpenAdapter = {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** Releases what the factory holds (PGlite instance). PostgreSQL pools are closed by Prisma. */
  close(): Promise<void>;
};

/** PGlite cannot be opened twice on one folder in one process: share one instance per folder. */
const pgliteInstances = new Map<string, PGlite>();

export function openPGlite(dataDir: string): PGlite {
  let instance = pgliteInstances.get(dataDir);
  if (!instance || instance.closed) {
    // PGlite does not create missing parent folders.
    if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
    instance = new PGlite(dataDir);
    pgliteInstances.set(dataDir, instance);
  }
  return instance;
}

export async function closePGlite(dataDir: string): Promise<void> {
  const instance = pgliteInstances.get(dataDir);
  pgliteInstances.delete(dataDir);
  if (instance && !instance.closed) await instance.close();
}

export function openAdapter(target: DatabaseTarget, options: { poolSize?: number } = {}): OpenAdapter {
  if (target.kind === "postgres") {
    const factory = new PrismaPg({
      connectionString: target.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
    });
    return { factory, close: async () => {} };
  }
  const pglite = openPGlite(target.dataDir);
  return { factory: new PrismaPGlite(pglite), close: () => closePGlite(target.dataDir) };
}
