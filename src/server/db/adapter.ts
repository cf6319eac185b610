import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { DatabaseTarget } from "./target";

export type OpenAdapter = {
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** PostgreSQL's connection pool (shared with Prisma); none for PGlite. */
  pool?: pg.Pool;
  /** Releases this user's hold on the PGlite instance, or closes the PostgreSQL pool. */
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
    // Our own pool, handed to Prisma, so the hot paths' prepared statements can share it (sql.ts).
    const pool = new pg.Pool({
      connectionString: target.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      // Idle connections stay five minutes, not pg's 10 s: a new one costs a backend start, a cold
      // catalog cache and the hot paths' statements prepared again, and under a steady moderate
      // load the pool would close and reopen them all the time, each reopening a stall of up to
      // ~100 ms for the request that waits on it (the paced HTTP benchmark's p99). The pool's
      // size still caps what an instance holds.
      idleTimeoutMillis: 5 * 60_000,
    });
    // A pooled connection that breaks while idle is dropped by the pool; queries report their own
    // errors. Without a listener the event would end the process.
    pool.on("error", () => {});
    const opened = disposingOnClose(new PrismaPg(pool));
    let ended = false;
    return {
      factory: opened.factory,
      pool,
      close: async () => {
        await opened.close();
        if (ended) return;
        ended = true;
        await pool.end();
      },
    };
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
