// `npm run rollups:refresh`: recomputes experiment_rollups_daily for the last two days, or all of
// it with `-- --full` (after a backfill or a restore).
import { getDb } from "@/server/db/client";
import { analyzeEventTables, refreshRollups } from "@/server/events/rollups";
import { runCli } from "./cli";

await runCli(async () => {
  const full = process.argv.includes("--full");
  const since = full ? undefined : new Date(Date.now() - 2 * 86_400_000);
  console.log(`• Refreshing rollups ${full ? "from the first event" : "for the last two days"}…`);
  // After a backfill or a restore the planner's statistics lag behind the data (autovacuum takes
  // its time; the embedded PGlite has none): a full rebuild planned on them can take minutes.
  if (full) await analyzeEventTables(getDb());
  const rows = await refreshRollups(getDb(), since);
  console.log(rows === null ? "• Another refresh is running; skipped" : `• Wrote ${rows} rollup rows`);
});
