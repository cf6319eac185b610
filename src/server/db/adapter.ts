import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { DatabaseTarget } from "./target";

export type OpenAdapter = {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** Releases this user's hold on the PGlite instance. PostgreSQL pools are closed by Prisma. */
  close(): Promise<void>;
};

/**
 * PGlite cannot be opened twice on one folder in one process (the second copy would corrupt it),
 * so every user of a folder shares one instance, closed when the last user releases it.
 */
const pgliteInstances = new Map<string, { instance: PGlite; users: number }>();

export function acquirePGlite(dataDir: string): PGlite {
  const entry = pgliteInstances.get(dataDir);
  if (entry && !entry.instance.closed) {
    entry.users += 1;
    return entry.instance;
  }
  // PGlite does not create missing parent folders.
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const instance = new PGlite(dataDir);
  pgliteInstances.set(dataDir, { instance, users: 1 });
  return instance;
}

export async function releasePGlite(dataDir: string): Promise<void> {
  const entry = pgliteInstances.get(dataDir);
  if (!entry) return;
  entry.users -= 1;
  if (entry.users > 0) return;
  pgliteInstances.delete(dataDir);
  if (!entry.instance.closed) await entry.instance.close();
}

export function openAdapter(target: DatabaseTarget, options: { poolSize?: number } = {}): OpenAdapter {
  if (target.kind === "postgres") {
    const factory = new PrismaPg({
      connectionString: target.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
    });
    return disposingOnClose(factory);
  }
  const pglite = acquirePGlite(target.dataDir);
  let released = false;
  return {
    factory: new PrismaPGlite(pglite),
    close: async () => {
      if (released) return;
      released = true;
      await releasePGlite(target.dataDir);
    },
  };
}

/**
 * Closes every connection the factory opened that its user did not dispose. The schema engine
 * releases its migration advisory lock by dropping its connection; freed WASM engines never
 * dispose theirs, so without this the lock (and a pool) outlived every migration command.
 */
function disposingOnClose(factory: SqlMigrationAwareDriverAdapterFactory): OpenAdapter {
  const open = new Set<SqlDriverAdapter>();
  const track = async (connecting: Promise<SqlDriverAdapter>): Promise<SqlDriverAdapter> => {
    const adapter = await connecting;
    open.add(adapter);
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      if (!open.delete(adapter)) return;
      await dispose();
    };
    return adapter;
  };
  return {
    factory: {
      provider: factory.provider,
      adapterName: factory.adapterName,
      connect: () => track(factory.connect()),
      connectToShadowDb: () => track(factory.connectToShadowDb()),
    },
    close: async () => {
      await Promise.all([...open].map((adapter) => adapter.dispose()));
    },
  };
}
