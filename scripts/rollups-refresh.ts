// `npm run rollups:refresh`: recomputes experiment_rollups_daily for the last two days, or all of
// it with `-- --full` (after a backfill or a restore), one experiment at a time.
import { getDb } from "@/server/db/client";
import { analyzeEventTables, rebuildRollups, refreshRecentRollups } from "@/server/events/rollup-jobs";
import { runCli } from "./cli";

await runCli(async () => {
  if (!process.argv.includes("--full")) {
    console.log("• Refreshing rollups for the last two days…");
    const rows = await refreshRecentRollups(getDb());
    console.log(rows === null ? "• Another refresh is running; skipped" : `• Wrote ${rows} rollup rows`);
    return;
  }
  // After a backfill or a restore the planner's statistics lag behind the data (autovacuum takes
  // its time; the embedded PGlite has none): a full rebuild planned on them can take minutes.
  console.log("• Analyzing the event tables…");
  await analyzeEventTables(getDb());
  const started = Date.now();
  const { experiments, rows } = await rebuildRollups(getDb(), ({ done, total, slug }) => {
    if (slug) console.log(`• [${done}/${total}] ${slug} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    else console.log(`• Rebuilding the rollups of ${total} experiment${total === 1 ? "" : "s"}…`);
  });
  console.log(`• Wrote ${rows} rollup rows for ${experiments} experiments`);
});
