import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * What every benchmark reports: one table, the peer ratios from the same run, and whether each
 * target was met. `npm run bench` collects these (bench/results/<id>.json) into BENCHMARKS.md.
 */
export type BenchId = "eval" | "http" | "ingest" | "results" | "client-weight";

export type BenchResult = {
  id: BenchId;
  title: string;
  /** How it was measured, in one or two sentences (data set, duration, concurrency). */
  method: string;
  columns: string[];
  rows: (string | number)[][];
  /** Peer comparisons from this run, e.g. { label: "GrowthBook / Verdict", value: 2.4 }. */
  ratios: { label: string; value: number }[];
  targets: { label: string; met: boolean; detail: string }[];
  notes?: string[];
};

export const RESULTS_DIR = path.join(process.cwd(), "bench", "results");

function cell(value: string | number): string {
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return value.toLocaleString("en");
  return Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 1
      ? value.toFixed(2)
      : value.toPrecision(3);
}

/** A Markdown table; also readable as plain text in a terminal. */
export function markdownTable(columns: string[], rows: (string | number)[][]): string {
  const lines = [`| ${columns.join(" | ")} |`, `| ${columns.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

export function formatResult(result: BenchResult): string {
  const parts = [`### ${result.title}`, "", result.method, "", markdownTable(result.columns, result.rows)];
  if (result.ratios.length) {
    parts.push("", ...result.ratios.map((ratio) => `- ${ratio.label}: **${ratio.value.toFixed(2)}×**`));
  }
  if (result.targets.length) {
    parts.push(
      "",
      ...result.targets.map((target) => `- ${target.met ? "✅" : "❌"} ${target.label}: ${target.detail}`),
    );
  }
  if (result.notes?.length) parts.push("", ...result.notes.map((note) => `> ${note}`));
  return parts.join("\n");
}

/** Prints the result and saves it for BENCHMARKS.md. */
export function report(result: BenchResult): void {
  console.log(`\n${formatResult(result)}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, `${result.id}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

/** A one-line progress bar on stderr for long phases (data generation, load). */
export function progress(label: string, done: number, total: number): void {
  if (!process.stderr.isTTY) {
    if (done === total) process.stderr.write(`${label}: done\n`);
    return;
  }
  const width = 30;
  const filled = Math.round((done / Math.max(1, total)) * width);
  process.stderr.write(
    `\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${Math.round((done / Math.max(1, total)) * 100)}%`,
  );
  if (done >= total) process.stderr.write("\n");
}
