// Database commands without Prisma's native engine: `npm run db:<command>`.

import { prepareDatabase } from "@/server/bootstrap";
import { assertDatabaseReachable } from "@/server/db/connection";
import { createMigration, diffMigrationsToSchema, migrationStatus } from "@/server/db/migrations";
import { databaseTargetFromEnv, describeTarget } from "@/server/db/target";
import { getEnv } from "@/server/env";
import { runCli } from "./cli";

const [command, ...args] = process.argv.slice(2);
const say = (line: string) => console.log(`• ${line}`);

await runCli(async () => {
  switch (command) {
    case "migrate": {
      const env = getEnv();
      await prepareDatabase(databaseTargetFromEnv(env), env, { seed: "never", report: say });
      break;
    }
    case "seed": {
      const env = getEnv();
      await prepareDatabase(databaseTargetFromEnv(env), env, { seed: "always", report: say });
      break;
    }
    case "status": {
      const target = databaseTargetFromEnv(getEnv());
      say(`Database: ${describeTarget(target)}`);
      await assertDatabaseReachable(target);
      const status = await migrationStatus(target);
      say(status.pending.length ? `Pending: ${status.pending.join(", ")}` : "Pending: none");
      if (status.failed.length) say(`Failed: ${status.failed.join(", ")}`);
      if (status.edited.length) say(`Edited after being applied: ${status.edited.join(", ")}`);
      if (status.unknown.length) say(`Applied but not in prisma/migrations: ${status.unknown.join(", ")}`);
      const drift = await diffMigrationsToSchema();
      say(
        drift.drifted
          ? "schema.prisma has changes with no migration: run npm run db:migration -- <name>"
          : "schema.prisma matches the migrations",
      );
      if (status.pending.length || status.failed.length || drift.drifted) process.exitCode = 1;
      break;
    }
    case "create-migration": {
      const name = args.join("_");
      const folder = await createMigration(name);
      say(
        folder
          ? `Wrote ${folder}/migration.sql: review it, then npm run db:migrate`
          : "No changes: schema.prisma matches the migrations",
      );
      break;
    }
    default:
      console.error("usage: tsx scripts/db.ts migrate | seed | status | create-migration <name>");
      process.exitCode = 2;
  }
});
