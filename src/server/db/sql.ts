import pg from "pg";
import type { PrismaClient } from "@/generated/prisma/client";

/**
 * The hot paths' hand-written statements (assignments, event ingest, the outbox), run as
 * directly as the database allows. On PostgreSQL each is a named prepared statement sent straight
 * through the pool Prisma shares: parsed and planned once per connection, and without the ORM's
 * per-query layers, which cost more than the query itself inside a busy Next.js server. Elsewhere
 * (PGlite, or a Prisma client extended by a test) they go through `$queryRawUnsafe`, with the same
 * results.
 */
export type SqlStatement = {
  /** Unique per text: PostgreSQL keeps it prepared under this name on every connection. */
  readonly name: string;
  /** SQL with `$1`, `$2`… placeholders. */
  readonly text: string;
};

export type SqlParameter =
  | string
  | number
  | boolean
  | Date
  | null
  | readonly (string | number | boolean | null)[];

export interface SqlRunner {
  query<Row>(statement: SqlStatement, values: readonly SqlParameter[]): Promise<Row[]>;
  /**
   * Runs `work` in a transaction on a connection of its own, committed when it resolves and
   * rolled back when it throws. Only where the runner owns a pool (PostgreSQL): an embedded
   * database has one connection, which a transaction held open would take from everyone else.
   */
  transaction?<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T>;
}

const TIMESTAMP_OID = 1114;

/** Timestamps without a zone hold UTC (that is how Prisma writes them): read them back as UTC. */
function parseUtcTimestamp(text: string): Date {
  return new Date(`${text.replace(" ", "T")}Z`);
}

/** Per query, as Prisma's adapter does, so the process-wide pg type parsers stay untouched. */
const types = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP_OID && format !== "binary" ? parseUtcTimestamp : pg.types.getTypeParser(oid, format),
} as pg.CustomTypesConfig;

/** Dates travel as UTC text for `timestamp(3)` columns, whatever the process's time zone. */
function toDriver(value: SqlParameter): unknown {
  return value instanceof Date ? value.toISOString() : value;
}

/** Statements on a pg pool or on one of its connections, prepared under their names. */
function queryOn(target: pg.Pool | pg.PoolClient): SqlRunner["query"] {
  return async <Row>(statement: SqlStatement, values: readonly SqlParameter[]) => {
    const result = await target.query({
      name: statement.name,
      text: statement.text,
      values: values.map(toDriver),
      types,
    });
    return result.rows as Row[];
  };
}

/** Statements on a pg pool; a transaction takes a connection from it for its duration. */
export function poolRunner(pool: pg.Pool): SqlRunner {
  return {
    query: queryOn(pool),
    async transaction<T>(work: (sql: SqlRunner) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // Held while the work waits on something else (a delivery, say), the connection can fail
      // with no query of ours running: its error must end this transaction, not the process.
      const onError = (error: Error) => {
        broken = error;
      };
      client.on("error", onError);
      try {
        await client.query("BEGIN");
        const result = await work({ query: queryOn(client) });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        // A connection that cannot even roll back is not given back to the pool.
        await client.query("ROLLBACK").catch((rollback: Error) => {
          broken = rollback;
        });
        throw error;
      } finally {
        client.removeListener("error", onError);
        client.release(broken);
      }
    },
  };
}

function prismaRunner(db: PrismaClient): SqlRunner {
  return {
    query<Row>(statement: SqlStatement, values: readonly SqlParameter[]) {
      return db.$queryRawUnsafe<Row[]>(statement.text, ...values);
    },
  };
}

// On globalThis: Next.js may load this module more than once (instrumentation, each route), and
// every copy must see the runner registered for the process-wide client.
const globalForRunners = globalThis as typeof globalThis & {
  __verdictSqlRunners?: WeakMap<object, SqlRunner>;
};
globalForRunners.__verdictSqlRunners ??= new WeakMap<object, SqlRunner>();
const runners = globalForRunners.__verdictSqlRunners;

/** Called by createDatabase: statements for `db` go straight to its pool. */
export function registerSqlRunner(db: PrismaClient, runner: SqlRunner): void {
  runners.set(db, runner);
}

/** The runner for a client: its pool's when it has one, otherwise Prisma's raw queries. */
export function sqlFor(db: PrismaClient): SqlRunner {
  let runner = runners.get(db);
  if (!runner) {
    runner = prismaRunner(db);
    runners.set(db, runner);
  }
  return runner;
}
