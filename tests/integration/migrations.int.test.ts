import { createHash } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "@/server/db/client";
import {
  applyMigrations,
  createMigration,
  DEFAULT_MIGRATIONS_DIR,
  DEFAULT_SCHEMA_PATH,
  diffMigrationsToSchema,
  loadMigrations,
  migrationStatus,
} from "@/server/db/migrations";
import { createEmptyDatabase, databaseKinds } from "./databases";

describe("schema.prisma and prisma/migrations", () => {
  it("have not drifted apart (run `npm run db:migration -- <name>` after changing the schema)", async () => {
    const { drifted, sql } = await diffMigrationsToSchema();
    expect(sql).toBe("");
    expect(drifted).toBe(false);
  });

  it("detects drift and writes the next migration in Prisma's layout", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "verdict-migrations-"));
    try {
      const migrationsDir = path.join(work, "migrations");
      await cp(DEFAULT_MIGRATIONS_DIR, migrationsDir, { recursive: true });
      const schemaPath = path.join(work, "schema.prisma");
      const schema = await readFile(DEFAULT_SCHEMA_PATH, "utf8");
      await writeFile(
        schemaPath,
        schema.replace("  name          String?\n", "  name          String?\n  nickname      String?\n"),
      );

      const drift = await diffMigrationsToSchema({ migrationsDir, schemaPath });
      expect(drift.drifted).toBe(true);
      expect(drift.sql).toContain('ALTER TABLE "User" ADD COLUMN     "nickname" TEXT');

      const folder = await createMigration("add nickname", { migrationsDir, schemaPath });
      expect(folder).toMatch(/[/\\]\d{14}_add_nickname$/);
      expect(await readFile(path.join(folder as string, "migration.sql"), "utf8")).toContain(
        '"nickname" TEXT',
      );
      expect(await diffMigrationsToSchema({ migrationsDir, schemaPath })).toEqual({
        drifted: false,
        sql: "",
      });
      expect(await createMigration("nothing", { migrationsDir, schemaPath })).toBeNull();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe.each(databaseKinds())("migrations on %s", (kind) => {
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it("apply once, record Prisma's bookkeeping, and apply nothing the second time", async () => {
    const { target, drop } = await createEmptyDatabase(kind);
    drops.push(drop);
    const list = await loadMigrations();
    const names = list.migrationDirectories.map((dir) => dir.path);
    expect(names.length).toBeGreaterThan(0);

    expect((await migrationStatus(target)).pending).toEqual(names);
    expect(await applyMigrations(target)).toEqual(names);
    expect(await applyMigrations(target)).toEqual([]);
    expect(await migrationStatus(target)).toEqual({ pending: [], failed: [], edited: [], unknown: [] });

    const handle = createDatabase(target, { poolSize: 1 });
    try {
      const rows = await handle.db.$queryRaw<
        { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
      >`select migration_name, checksum, finished_at, applied_steps_count from _prisma_migrations order by migration_name`;
      expect(rows.map((row) => row.migration_name)).toEqual(names);
      for (const row of rows) {
        // Prisma's checksum is the SHA-256 of the migration file: `prisma migrate status` agrees.
        const sql = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, "migration.sql"));
        expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.applied_steps_count).toBe(1);
      }
      // The tables the app relies on exist.
      expect(await handle.db.feature.count()).toBe(0);
      expect(await handle.db.event.count()).toBe(0);
    } finally {
      await handle.close();
    }
  });
});
