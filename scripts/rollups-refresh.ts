// `npm run rollups:refresh`: recomputes experiment_rollups_daily for the last two days, or all of
// it with `-- --full` (after a backfill or a restore).
import { getDb } from "@/server/db/client";
import { refreshRollups } from "@/server/events/rollups";
import { runCli } from "./cli";

await runCli(async () => {
  const full = process.argv.includes("--full");
  const since = full ? undefined : new Date(Date.now() - 2 * 86_400_000);
  console.log(`• Refreshing rollups ${full ? "from the first event" : "for the last two days"}…`);
  const rows = await refreshRollups(getDb(), since);
  console.log(rows === null ? "• Another refresh is running; skipped" : `• Wrote ${rows} rollup rows`);
});
