import { describe, expect, it } from "vitest";
import { describeConnectionError } from "@/server/db/connection";
import { migrationFolderName } from "@/server/db/migrations";
import { databaseTargetFromEnv, describeTarget } from "@/server/db/target";

const url = "postgresql://app:secret@db.internal:6543/verdict";

describe("describeConnectionError", () => {
  it.each([
    [
      { code: "ECONNREFUSED" },
      "Cannot connect to PostgreSQL at db.internal:6543: connection refused. Is the server running? (DATABASE_URL)",
    ],
    [{ code: "ENOTFOUND" }, 'Cannot resolve the PostgreSQL host "db.internal" (DATABASE_URL).'],
    [
      { code: "28P01" },
      'PostgreSQL at db.internal:6543 rejected the password for user "app" (DATABASE_URL).',
    ],
    [
      { code: "28000" },
      'PostgreSQL at db.internal:6543 does not allow user "app" to connect (DATABASE_URL).',
    ],
    [
      { code: "3D000" },
      'PostgreSQL at db.internal:6543 has no database "verdict": create it first (createdb verdict).',
    ],
    [
      { message: "Connection terminated due to connection timeout" },
      "Timed out connecting to PostgreSQL at db.internal:6543 (DATABASE_URL).",
    ],
  ])("explains %o in one line without the password", (error, expected) => {
    const line = describeConnectionError(error, url);
    expect(line).toBe(expected);
    expect(line).not.toContain("secret");
  });
});

describe("database targets", () => {
  it("uses PostgreSQL when DATABASE_URL is set, otherwise the PGlite folder", () => {
    expect(databaseTargetFromEnv({ DATABASE_URL: url, PGLITE_DATA_DIR: ".data/pglite" })).toEqual({
      kind: "postgres",
      url,
    });
    const embedded = databaseTargetFromEnv({ DATABASE_URL: undefined, PGLITE_DATA_DIR: ".data/pglite" });
    expect(embedded).toEqual({ kind: "pglite", dataDir: `${process.cwd()}/.data/pglite` });
    expect(describeTarget({ kind: "postgres", url })).toBe("PostgreSQL db.internal:6543/verdict");
  });

  it("names migration folders the way Prisma does", () => {
    expect(migrationFolderName("Add rollups table!", new Date("2026-11-24T09:08:07.123Z"))).toBe(
      "20261124090807_add_rollups_table",
    );
    expect(() => migrationFolderName("  ")).toThrow(/needs a name/);
  });
});
