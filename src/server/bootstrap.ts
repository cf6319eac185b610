import { createDatabase } from "./db/client";
import { assertDatabaseReachable } from "./db/connection";
import { applyMigrations } from "./db/migrations";
import { type DatabaseTarget, describeTarget } from "./db/target";
import type { Env } from "./env";
import { ensureAdmin, type SeedResult, seedDatabase } from "./seed";

/**
 * `if-empty`: the demo data on a database without users (the embedded default's first start).
 * `admin-only`: just a first admin when there is none (a new PostgreSQL deployment), no demo data.
 */
export type SeedPolicy = "always" | "if-empty" | "admin-only" | "never";

/**
 * Everything a database needs before the app serves from it: reachable, migrated, and (for the
 * embedded default's first start) seeded. Progress goes to `report`, one line per step.
 */
export async function prepareDatabase(
  target: DatabaseTarget,
  env: Env,
  options: { seed: SeedPolicy; report: (line: string) => void },
): Promise<void> {
  const { report } = options;
  report(`Database: ${describeTarget(target)}`);
  await assertDatabaseReachable(target);

  const applied = await applyMigrations(target);
  report(
    applied.length
      ? `Migrations: applied ${applied.length} (${applied.join(", ")})`
      : "Migrations: up to date",
  );
  if (options.seed === "never") return;

  const handle = createDatabase(target, { poolSize: 2 });
  try {
    if (options.seed === "admin-only") {
      const admin = await ensureAdmin(handle.db, {
        email: env.SEED_ADMIN_EMAIL,
        password: env.SEED_ADMIN_PASSWORD,
      });
      if (admin) reportCreatedUser(admin, report);
      return;
    }
    if (options.seed === "if-empty" && (await handle.db.user.count()) > 0) return;
    const result = await seedDatabase(handle.db, {
      adminEmail: env.SEED_ADMIN_EMAIL,
      adminPassword: env.SEED_ADMIN_PASSWORD,
      memberEmail: env.SEED_MEMBER_EMAIL,
      memberPassword: env.SEED_MEMBER_PASSWORD,
    });
    for (const user of result.createdUsers) reportCreatedUser(user, report);
    if (result.createdExperiment) report("Seed: created the running demo experiment landing-hero");
    if (!result.createdUsers.length && !result.createdExperiment) report("Seed: demo data already present");
  } finally {
    await handle.close();
  }
}

function reportCreatedUser(user: SeedResult["createdUsers"][number], report: (line: string) => void) {
  const role = user.role === "ADMIN" ? "admin" : "member";
  report(
    user.generatedPassword
      ? `Seed: created ${role} ${user.email} with password ${user.generatedPassword}  (shown once; set SEED_${role.toUpperCase()}_PASSWORD to choose it)`
      : `Seed: created ${role} ${user.email} (password from SEED_${role.toUpperCase()}_PASSWORD)`,
  );
}
