import type { MachineInfo } from "./machine";
import { type BenchId, type BenchResult, formatResult, markdownTable } from "./report";

/** How one benchmark fared in a `npm run bench` run, as BENCHMARKS.md reports it. */
export type BenchOutcome =
  | { id: BenchId; status: "measured"; result: BenchResult; seconds: number }
  /** Left out by `--only`: older saved results are not mixed with this run's header. */
  | { id: BenchId; status: "not-selected" }
  | { id: BenchId; status: "failed"; reason: string; seconds: number }
  | { id: BenchId; status: "missing" };

export const BENCH_TITLES: Record<BenchId, string> = {
  eval: "In-process evaluation",
  "client-weight": "Client weight",
  http: "Assignment over HTTP",
  ingest: "Event ingest",
  results: "Results",
};

export type RunContext = {
  date: Date;
  command: string;
  machine: MachineInfo;
  versions: [name: string, version: string][];
};

function header(context: RunContext): string {
  const rows: [string, string][] = [
    [
      "Date",
      context.date
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC"),
    ],
    ["Command", `\`${context.command}\``],
    ["CPU", `${context.machine.cpu}, ${context.machine.cores} cores`],
    ["Memory", context.machine.memory],
    ["OS", context.machine.os],
    ...context.versions,
  ];
  return [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (`bench/run.ts`) from the results each benchmark saves in `bench/results/`; " +
      "rerun it rather than editing this file. Every figure and peer ratio below comes from the one run " +
      "described here.",
    "",
    markdownTable(["Machine and versions", ""], rows),
  ].join("\n");
}

function section(outcome: BenchOutcome): string {
  switch (outcome.status) {
    case "measured":
      return `${formatResult(outcome.result)}\n\n_Ran in ${outcome.seconds.toFixed(0)} s._`;
    case "not-selected":
      return `### ${BENCH_TITLES[outcome.id]}\n\n_Not run by this command (\`--only\` left it out)._`;
    case "failed":
      return `### ${BENCH_TITLES[outcome.id]}\n\n❌ **Failed**: \`bench/${outcome.id}.ts\` ${outcome.reason} after ${outcome.seconds.toFixed(0)} s; its output in the run says why. No figures are reported for it.`;
    case "missing":
      return `### ${BENCH_TITLES[outcome.id]}\n\n_Not measured: \`bench/${outcome.id}.ts\` does not exist yet._`;
  }
}

/** A table cell from free text: a `|` or a line break would end the cell or the row early. */
function cellText(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");
}

function summary(outcomes: BenchOutcome[]): string {
  const rows: string[][] = [];
  for (const outcome of outcomes) {
    const title = BENCH_TITLES[outcome.id];
    if (outcome.status === "failed")
      rows.push([title, "(benchmark failed)", "❌ failed", cellText(outcome.reason)]);
    else if (outcome.status === "missing") rows.push([title, "(no benchmark yet)", "–", "not measured"]);
    else if (outcome.status === "not-selected") rows.push([title, "(not run)", "–", "left out by --only"]);
    else {
      for (const target of outcome.result.targets) {
        rows.push([
          title,
          cellText(target.label),
          target.met ? "✅ met" : "❌ missed",
          cellText(target.detail),
        ]);
      }
    }
  }
  return ["## Summary of targets", "", markdownTable(["Benchmark", "Target", "Result", "Detail"], rows)].join(
    "\n",
  );
}

export function benchmarksMarkdown(context: RunContext, outcomes: BenchOutcome[]): string {
  return [header(context), "## Results", ...outcomes.map(section), summary(outcomes), ""].join("\n\n");
}
