/**
 * `npm run bench`: runs every benchmark under bench/ one after the other, each in its own process
 * with its output shown as it goes, then rewrites BENCHMARKS.md from the results they saved.
 *
 *   npm run bench                              every benchmark that exists
 *   npm run bench -- --only eval,results       just these
 *
 * A benchmark that fails is reported as failed (in the terminal and in BENCHMARKS.md); the others
 * still run, and the exit code is non-zero at the end. The HTTP and ingest benchmarks use the
 * production build in `.next`: on a machine where others build too, set BENCH_BUILD_LOCK to a lock
 * file (e.g. /tmp/e2e.lock) and each of them runs under `flock` on it, holding it only meanwhile.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type BenchOutcome, benchmarksMarkdown } from "./lib/benchmarks-markdown";
import { machineInfo, packageVersion, postgresVersion } from "./lib/machine";
import { type BenchId, type BenchResult, RESULTS_DIR } from "./lib/report";

const ROOT = process.cwd();
const BENCHMARKS: BenchId[] = ["eval", "client-weight", "http", "ingest", "results"];
/** Benchmarks that serve `.next`, so they run under BENCH_BUILD_LOCK when it is set. */
const USES_BUILD = new Set<BenchId>(["http", "ingest"]);

function selectedBenchmarks(args: string[]): BenchId[] {
  const index = args.findIndex((arg) => arg === "--only" || arg.startsWith("--only="));
  if (index < 0) return BENCHMARKS;
  const arg = args[index] as string;
  const list = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : (args[index + 1] ?? "");
  const names = list
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !BENCHMARKS.includes(name as BenchId));
  if (names.length === 0 || unknown.length) {
    console.error(
      `--only takes a comma-separated list of ${BENCHMARKS.join(", ")}${unknown.length ? `; unknown: ${unknown.join(", ")}` : ""}`,
    );
    process.exit(2);
  }
  // Always in the canonical order, whatever order they were named in.
  return BENCHMARKS.filter((id) => names.includes(id));
}

const resultFile = (id: BenchId) => path.join(RESULTS_DIR, `${id}.json`);

function readResult(id: BenchId): BenchResult | null {
  try {
    return JSON.parse(readFileSync(resultFile(id), "utf8")) as BenchResult;
  } catch {
    return null;
  }
}

function savedAt(id: BenchId): number | null {
  return existsSync(resultFile(id)) ? statSync(resultFile(id)).mtimeMs : null;
}

/** Runs one benchmark with inherited output; resolves with why it failed, or null when it succeeded. */
function runBenchmark(id: BenchId): Promise<string | null> {
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  const script = path.join("bench", `${id}.ts`);
  const lock = process.env.BENCH_BUILD_LOCK;
  const [command, args] = lock && USES_BUILD.has(id) ? ["flock", [lock, tsx, script]] : [tsx, [script]];
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", cwd: ROOT, env: process.env });
    child.on("error", (error) => resolve(`could not start (${error.message})`));
    child.on("exit", (code, signal) => {
      if (signal) resolve(`was killed by ${signal}`);
      else if (code !== 0) resolve(`exited with code ${code}`);
      else resolve(null);
    });
  });
}

function commandLine(args: string[]): string {
  const rest = args.length ? ` -- ${args.join(" ")}` : "";
  return process.env.npm_lifecycle_event === "bench"
    ? `npm run bench${rest}`
    : `tsx bench/run.ts${args.length ? ` ${args.join(" ")}` : ""}`;
}

async function main() {
  const args = process.argv.slice(2);
  const selected = selectedBenchmarks(args);
  const date = new Date();
  const outcomes: BenchOutcome[] = [];

  for (const id of BENCHMARKS) {
    const exists = existsSync(path.join(ROOT, "bench", `${id}.ts`));
    if (!selected.includes(id)) {
      outcomes.push({ id, status: exists ? "not-selected" : "missing" });
      continue;
    }
    if (!exists) {
      console.log(`\n— ${id}: bench/${id}.ts does not exist yet; skipped.`);
      outcomes.push({ id, status: "missing" });
      continue;
    }
    console.log(`\n━━ ${id}: npx tsx bench/${id}.ts ━━`);
    const started = Date.now();
    const failure = await runBenchmark(id);
    const seconds = (Date.now() - started) / 1000;
    const result = readResult(id);
    const fresh = (savedAt(id) ?? 0) >= started;
    if (failure || !result || !fresh) {
      const reason = failure ?? "finished without saving a result";
      console.error(`✗ ${id} failed: bench/${id}.ts ${reason}.`);
      outcomes.push({ id, status: "failed", reason, seconds });
    } else {
      console.log(`✓ ${id} done in ${seconds.toFixed(0)} s.`);
      outcomes.push({ id, status: "measured", result, seconds });
    }
  }

  const versions: [string, string][] = [
    ["Node.js", process.version],
    ...["next", "react", "@growthbook/growthbook", "posthog-node", "posthog-js"].map(
      (name): [string, string] => [name, packageVersion(name)],
    ),
    ["PostgreSQL server", await postgresVersion()],
  ];
  const markdown = benchmarksMarkdown(
    { date, command: commandLine(args), machine: machineInfo(), versions },
    outcomes,
  );
  writeFileSync(path.join(ROOT, "BENCHMARKS.md"), markdown);
  console.log("\nBENCHMARKS.md rewritten.");

  const failed = outcomes.filter((outcome) => outcome.status === "failed").map((outcome) => outcome.id);
  const missing = outcomes.filter((outcome) => outcome.status === "missing" && selected.includes(outcome.id));
  if (missing.length)
    console.log(`Not present (skipped): ${missing.map((outcome) => outcome.id).join(", ")}.`);
  if (failed.length) {
    console.error(`Failed: ${failed.join(", ")}.`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
