import pg from "pg";

/**
 * One short-lived PostgreSQL client on `url` for `work`, closed afterwards whatever happens: for
 * statements Prisma has no words for (CREATE DATABASE, ANALYZE) in tests, benchmarks and scripts.
 */
export async function withPgClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
