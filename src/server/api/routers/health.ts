import { createTRPCRouter, publicProcedure } from "../trpc";

export const healthRouter = createTRPCRouter({
  /** Reads from the database, so a green check means the app can serve experiments. */
  check: publicProcedure.query(async ({ ctx }) => {
    const started = performance.now();
    const [[row], runningExperiments] = await Promise.all([
      ctx.db.$queryRaw<{ migration: string | null }[]>`
        select max(migration_name) as migration from _prisma_migrations where finished_at is not null`,
      ctx.db.feature.count({ where: { type: "EXPERIMENT", enabled: true } }),
    ]);
    return {
      status: "ok" as const,
      latestMigration: row?.migration ?? null,
      runningExperiments,
      databaseMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }),
});
