import { describe, expect, it } from "vitest";
import { prepareDatabase } from "@/server/bootstrap";
import { createDatabase } from "@/server/db/client";
import { parseEnv } from "@/server/env";
import { createEmptyDatabase, databaseKinds } from "./databases";

/**
 * A new PostgreSQL deployment gets its first admin at start-up (as the embedded database does),
 * without any demo data, and never a second one.
 */
describe.each(databaseKinds())("the first admin of a new deployment on %s", (kind) => {
  it("is created once, with a generated password printed once, and no demo data", async () => {
    const empty = await createEmptyDatabase(kind);
    const lines: string[] = [];
    const report = (line: string) => lines.push(line);
    try {
      const env = parseEnv({ SEED_ADMIN_EMAIL: "Owner@Example.test" });
      await prepareDatabase(empty.target, env, { seed: "admin-only", report });
      const created = lines.filter((line) => line.startsWith("Seed: created admin"));
      expect(created).toHaveLength(1);
      expect(created[0]).toMatch(
        /^Seed: created admin owner@example\.test with password \S{12,} {2}\(shown once/,
      );

      lines.length = 0;
      await prepareDatabase(empty.target, env, { seed: "admin-only", report });
      expect(lines.filter((line) => line.startsWith("Seed:"))).toEqual([]);

      const handle = createDatabase(empty.target, { poolSize: 1 });
      try {
        const users = await handle.db.user.findMany({ select: { email: true, role: true } });
        expect(users).toEqual([{ email: "owner@example.test", role: "ADMIN" }]);
        expect(await handle.db.feature.count()).toBe(0);
        expect(await handle.db.team.count()).toBe(0);
      } finally {
        await handle.close();
      }
    } finally {
      await empty.drop();
    }
  });

  it("takes its password from SEED_ADMIN_PASSWORD and leaves a database that has an admin alone", async () => {
    const empty = await createEmptyDatabase(kind);
    const lines: string[] = [];
    try {
      const env = parseEnv({ SEED_ADMIN_PASSWORD: "a-chosen-password" });
      await prepareDatabase(empty.target, env, { seed: "admin-only", report: (line) => lines.push(line) });
      expect(lines).toContain("Seed: created admin admin@verdict.local (password from SEED_ADMIN_PASSWORD)");
      const other = parseEnv({ SEED_ADMIN_EMAIL: "second@example.test" });
      await prepareDatabase(empty.target, other, { seed: "admin-only", report: (line) => lines.push(line) });
      const handle = createDatabase(empty.target, { poolSize: 1 });
      try {
        expect(await handle.db.user.count()).toBe(1);
      } finally {
        await handle.close();
      }
    } finally {
      await empty.drop();
    }
  });
});
