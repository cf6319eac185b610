import { DAY_MS } from "@/features/experiments/server/results-folding";
import type { PrismaClient } from "@/generated/prisma/client";
import { logger } from "../logger";
import { refreshRollups, takeRollupLock } from "./rollups";

/**
 * The jobs around `refreshRollups`: the full rebuild (by hand, after a backfill or a restore), the
 * in-app schedule of recent refreshes, and the table maintenance both want.
 */

/** Late events land in yesterday too, so a routine refresh rewrites the last two days. */
const RECENT_DAYS = 2;

/**
 * The routine refresh: the schedule's, `npm run rollups:refresh` without `--full`, and an admin's
 * "Refresh now" for one experiment (`slug`). Null when another refresh holds the lock.
 */
export function refreshRecentRollups(db: PrismaClient, slug?: string): Promise<number | null> {
  return refreshRollups(db, new Date(Date.now() - RECENT_DAYS * DAY_MS), slug);
}

/**
 * Rows written before the rollups kept CUPED's sums hold zeros until their experiment's rows are
 * all rewritten: one such experiment is rebuilt per call (the schedule's), so an upgrade is absorbed
 * in the background, a test at a time, instead of by a results page. Returns its slug, or null when
 * none is left or another refresh held the lock.
 */
export async function rebuildOneOutdated(db: PrismaClient): Promise<string | null> {
  const [next] = await db.$queryRaw<{ slug: string }[]>`
    select f."slug" from "Feature" f
    left join "experiment_rollup_refreshes" r on r."experimentSlug" = f."slug"
    where f."type" = 'EXPERIMENT' and r."rebuiltAt" is null
      and exists (select 1 from "experiment_rollups_daily" d where d."experimentSlug" = f."slug")
    order by f."slug"
    limit 1`;
  if (!next) return null;
  return (await refreshRollups(db, undefined, next.slug)) === null ? null : next.slug;
}

export type RebuildProgress = { done: number; total: number; slug: string | null };

/**
 * Rebuilds every experiment's rollups from the event store, one experiment per transaction. One
 * transaction for all of them ran for minutes at 1M/5M (up to 130 s on two cores), holding back
 * vacuum's horizon the whole time, when the outbox leaves dead rows at ingest speed; per
 * experiment, the longest transaction is the largest experiment's. Each waits its turn behind a
 * scheduled refresh instead of skipping, and the results stay exact in between: an experiment's
 * rows are replaced in one transaction. Rows of experiments with no assignments left (deleted, or
 * their ledger purged) go first. Returns the rows written.
 */
export async function rebuildRollups(
  db: PrismaClient,
  onProgress: (progress: RebuildProgress) => void = () => {},
): Promise<{ experiments: number; rows: number }> {
  // Listed under the lock, so no refresh writes rows for an experiment missing from the list.
  const slugs = await db.$transaction(async (tx) => {
    await takeRollupLock(tx, true);
    const experiments = await tx.$queryRaw<{ slug: string }[]>`
      select f."slug" from "Feature" f
      where exists (select 1 from "ExperimentVariant" a where a."experimentSlug" = f."slug")
      order by f."slug"`;
    const listed = experiments.map((experiment) => experiment.slug);
    await tx.$executeRaw`delete from "experiment_rollups_daily"
      where "experimentSlug" <> all(${listed}::text[])`;
    return listed;
  });
  let rows = 0;
  onProgress({ done: 0, total: slugs.length, slug: null });
  for (const [index, slug] of slugs.entries()) {
    rows += (await refreshRollups(db, undefined, slug, { wait: true })) ?? 0;
    onProgress({ done: index + 1, total: slugs.length, slug });
  }
  return { experiments: slugs.length, rows };
}

export type RollupSchedule = {
  everyMs?: number;
  /**
   * `VACUUM (ANALYZE)` the event tables before a refresh, at most once per `maintainEveryMs`. For
   * the embedded PGlite: it runs PostgreSQL in single-user mode, where autovacuum never runs, so
   * without this every plan is made for empty tables (a full refresh of the demo seed took 8.6 s
   * instead of 1.8 s) and the dead rows every outbox delivery leaves are never reclaimed.
   */
  maintain?: boolean;
  maintainEveryMs?: number;
};

/** The tables the rollups (and the results) read, and where updates leave dead rows. */
const EVENT_TABLES = `"Event", "ExperimentVariant", "experiment_rollups_daily"`;

/**
 * ANALYZE of the event tables (it samples, so its cost is bounded): after a bulk load, or where
 * autovacuum never runs; with `vacuum`, their dead rows are reclaimed too.
 */
export async function analyzeEventTables(
  db: PrismaClient,
  options: { vacuum?: boolean } = {},
): Promise<void> {
  await db.$executeRawUnsafe(`${options.vacuum ? "VACUUM (ANALYZE)" : "ANALYZE"} ${EVENT_TABLES}`);
}

/**
 * Keeps rollups fresh inside the app: every few minutes, the last two days (late events land in
 * yesterday too), then one experiment whose rows predate CUPED's sums, rebuilt; a full rebuild is
 * `npm run rollups:refresh -- --full`. One run at a time in this process (other instances skip by
 * the advisory lock). Returns a stop that waits for a run in flight.
 */
export function scheduleRollups(db: PrismaClient, schedule: RollupSchedule = {}): () => Promise<void> {
  const { everyMs = 5 * 60_000, maintain = false, maintainEveryMs = 60 * 60_000 } = schedule;
  let maintainedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | null = null;
  const work = async () => {
    try {
      if (maintain && Date.now() - maintainedAt >= maintainEveryMs) {
        await analyzeEventTables(db, { vacuum: true });
        maintainedAt = Date.now();
      }
      await refreshRecentRollups(db);
      await rebuildOneOutdated(db);
    } catch (error) {
      logger.warn("rollup refresh failed; will retry", { error: String(error) });
    }
  };
  const run = () => {
    inFlight ??= work().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  const timer = setInterval(run, everyMs);
  timer.unref();
  void run();
  return async () => {
    clearInterval(timer);
    await inFlight;
  };
}
