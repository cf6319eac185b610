import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";

/** What BENCHMARKS.md says about where and with what the figures were measured. */

/** The installed version of a package, read from node_modules (not the range in package.json). */
export function packageVersion(name: string): string {
  try {
    const manifest = JSON.parse(
      readFileSync(path.join(process.cwd(), "node_modules", name, "package.json"), "utf8"),
    ) as { version?: string };
    return manifest.version ?? "unknown";
  } catch {
    return "not installed";
  }
}

function operatingSystem(): string {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(release)?.[1];
    if (pretty) return `${pretty} (${os.type()} ${os.release()}, ${os.arch()})`;
  } catch {
    // Not Linux, or a minimal image: the kernel line below is enough.
  }
  return `${os.type()} ${os.release()} (${os.arch()})`;
}

export type MachineInfo = { cpu: string; cores: number; memory: string; os: string };

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || "unknown",
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: operatingSystem(),
  };
}

/**
 * The PostgreSQL server the database benchmarks use (DATABASE_URL, else TEST_DATABASE_URL, else
 * the local default), or why it could not be asked.
 */
export async function postgresVersion(): Promise<string> {
  const connectionString =
    process.env.DATABASE_URL ??
    process.env.TEST_DATABASE_URL ??
    "postgresql://postgres@127.0.0.1:5432/postgres";
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    const result = await client.query<{ server_version: string }>("show server_version");
    return result.rows[0]?.server_version ?? "unknown";
  } catch (error) {
    return `not reachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => {});
  }
}
