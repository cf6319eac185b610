/**
 * In-process evaluation (issue 8, 1a): Verdict's `assignVariant` against GrowthBook's SDK and
 * posthog-node's local evaluation, over the same seeded ids, for the same experiment.
 *
 *   npx tsx bench/eval.ts            (BENCH_EVAL_IDS, BENCH_EVAL_PASSES to change the size)
 */
import os from "node:os";
import { type Experiment, GrowthBookClient } from "@growthbook/growthbook";
import { PostHog } from "posthog-node";
import { type AssignableExperiment, assignVariant } from "@/features/experiments/core/assign";
import { packageVersion } from "./lib/machine";
import { startDefinitionsServer } from "./lib/posthog-definitions-server";
import { type BenchResult, progress, report } from "./lib/report";
import { seededUuids } from "./lib/seeded-ids";
import { median, nowNs, nsPerOperation } from "./lib/timing";

const SUBJECTS = Number(process.env.BENCH_EVAL_IDS ?? 1_000_000);
const PASSES = Number(process.env.BENCH_EVAL_PASSES ?? 5);
// posthog-node is two orders of magnitude slower per call; fewer passes keep the run short.
const POSTHOG_PASSES = Number(process.env.BENCH_EVAL_POSTHOG_PASSES ?? 2);
const WARM_UP_IDS = Math.min(SUBJECTS, 200_000);

/** Three uneven arms on 80% of traffic, so range boundaries and the coverage cut are both exercised. */
const SLUG = "checkout-button-copy";
const VARIANTS = [
  { name: "control", percentage: 34 },
  { name: "bold", percentage: 33 },
  { name: "urgent", percentage: 33 },
] as const;
const TRAFFIC_PERCENT = 80;

const verdictGrowthBook: AssignableExperiment = {
  slug: SLUG,
  variants: VARIANTS,
  trafficPercent: TRAFFIC_PERCENT,
};
const verdictPostHog: AssignableExperiment = { ...verdictGrowthBook, hashing: "posthog" };

/** The same experiment for GrowthBook: key = seed = slug, hashed on the `id` attribute with hash v2. */
const growthbookExperiment: Experiment<string> = {
  key: SLUG,
  // GrowthBook's type wants at least two variations; VARIANTS has three.
  variations: VARIANTS.map((variant) => variant.name) as [string, string, ...string[]],
  weights: VARIANTS.map((variant) => variant.percentage / 100),
  coverage: TRAFFIC_PERCENT / 100,
  hashVersion: 2,
};

/** The same split as a PostHog multivariate flag, in the shape its definitions endpoint returns. */
const posthogFlag = {
  id: 1,
  name: SLUG,
  key: SLUG,
  active: true,
  deleted: false,
  ensure_experience_continuity: false,
  filters: {
    groups: [{ properties: [], rollout_percentage: TRAFFIC_PERCENT }],
    multivariate: {
      variants: VARIANTS.map((variant) => ({
        key: variant.name,
        name: variant.name,
        rollout_percentage: variant.percentage,
      })),
    },
    payloads: {},
  },
};

type Assignments = (string | null)[];

// One loop per implementation, so each call site stays monomorphic and no implementation pays
// for another's shapes. The timed work is the call plus storing its answer.
function runVerdict(experiment: AssignableExperiment, ids: string[], count: number, out: Assignments) {
  for (let index = 0; index < count; index++) out[index] = assignVariant(experiment, ids[index] as string);
}

function runGrowthBook(client: GrowthBookClient, ids: string[], count: number, out: Assignments) {
  for (let index = 0; index < count; index++) {
    const result = client.runInlineExperiment(growthbookExperiment, { attributes: { id: ids[index] } });
    out[index] = result.inExperiment ? result.value : null;
  }
}

async function runPostHog(client: PostHog, ids: string[], count: number, out: Assignments) {
  for (let index = 0; index < count; index++) {
    const value = await client.getFeatureFlag(SLUG, ids[index] as string, {
      onlyEvaluateLocally: true,
      sendFeatureFlagEvents: false,
    });
    out[index] = typeof value === "string" ? value : null;
    if (index % 50_000 === 0) progress("posthog-node pass", index, count);
  }
  progress("posthog-node pass", count, count);
}

type Contender = {
  label: string;
  passes: number;
  run: (count: number, out: Assignments) => void | Promise<void>;
  out: Assignments;
  /** Wall-clock ns per assignment of each timed pass (process.hrtime.bigint). */
  timings: number[];
  /** Process CPU ns per assignment of each pass: what the work cost when other load preempts us. */
  cpuTimings: number[];
};

function mismatches(left: Assignments, right: Assignments): { count: number; examples: string[] } {
  let count = 0;
  const examples: string[] = [];
  for (let index = 0; index < left.length; index++) {
    if (left[index] === right[index]) continue;
    count++;
    if (examples.length < 3) examples.push(`#${index}: ${left[index]} vs ${right[index]}`);
  }
  return { count, examples };
}

function shares(assignments: Assignments): string {
  const counts = new Map<string, number>();
  for (const name of assignments) counts.set(name ?? "(none)", (counts.get(name ?? "(none)") ?? 0) + 1);
  return [...counts]
    .sort(([left], [right]) => left.localeCompare(right))
    .map(([name, count]) => `${name} ${((count / assignments.length) * 100).toFixed(2)}%`)
    .join(", ");
}

async function main() {
  const loadBefore = os.loadavg()[0] ?? 0;
  console.log(`Generating ${SUBJECTS.toLocaleString("en")} seeded ids…`);
  const ids = seededUuids(SUBJECTS);

  const growthbook = new GrowthBookClient({ enabled: true });
  const definitions = await startDefinitionsServer({
    flags: [posthogFlag],
    group_type_mapping: {},
    cohorts: {},
  });
  const posthog = new PostHog("phc_bench_project_key", {
    host: definitions.url,
    secretKey: "phs_bench_secret_key",
    featureFlagsPollingInterval: null,
    disableGeoip: true,
  });
  if (!(await posthog.waitForLocalEvaluationReady(10_000))) {
    throw new Error("posthog-node did not load the flag definitions from the loopback server");
  }

  const contenders: Contender[] = [
    {
      label: "Verdict `assignVariant` (growthbook-v2, default)",
      passes: PASSES,
      run: (count, out) => runVerdict(verdictGrowthBook, ids, count, out),
      out: new Array(SUBJECTS).fill(null),
      timings: [],
      cpuTimings: [],
    },
    {
      label: `GrowthBook SDK ${packageVersion("@growthbook/growthbook")} \`GrowthBookClient.runInlineExperiment\``,
      passes: PASSES,
      run: (count, out) => runGrowthBook(growthbook, ids, count, out),
      out: new Array(SUBJECTS).fill(null),
      timings: [],
      cpuTimings: [],
    },
    {
      label: "Verdict `assignVariant` (posthog hashing)",
      passes: PASSES,
      run: (count, out) => runVerdict(verdictPostHog, ids, count, out),
      out: new Array(SUBJECTS).fill(null),
      timings: [],
      cpuTimings: [],
    },
    {
      label: `posthog-node ${packageVersion("posthog-node")} \`getFeatureFlag\` (local evaluation)`,
      passes: POSTHOG_PASSES,
      run: (count, out) => runPostHog(posthog, ids, count, out),
      out: new Array(SUBJECTS).fill(null),
      timings: [],
      cpuTimings: [],
    },
  ];
  const [verdict, growthbookRow, verdictPh, posthogRow] = contenders as [
    Contender,
    Contender,
    Contender,
    Contender,
  ];

  console.log(`Warming up on ${WARM_UP_IDS.toLocaleString("en")} ids each…`);
  for (const contender of contenders) await contender.run(WARM_UP_IDS, contender.out);

  // Passes are interleaved so background load on a shared machine spreads over every contender.
  const rounds = Math.max(...contenders.map((contender) => contender.passes));
  for (let round = 0; round < rounds; round++) {
    for (const contender of contenders) {
      if (round >= contender.passes) continue;
      const cpuStart = process.cpuUsage();
      const start = nowNs();
      await contender.run(SUBJECTS, contender.out);
      contender.timings.push(nsPerOperation(start, nowNs(), SUBJECTS));
      const cpu = process.cpuUsage(cpuStart);
      contender.cpuTimings.push(((cpu.user + cpu.system) * 1000) / SUBJECTS);
      console.log(
        `  pass ${round + 1}: ${contender.label}: ${contender.timings.at(-1)?.toFixed(1)} ns wall, ${contender.cpuTimings.at(-1)?.toFixed(1)} ns CPU`,
      );
    }
  }

  await posthog.shutdown(2_000);
  await definitions.close();

  const nsOf = (contender: Contender) => median(contender.timings);
  const fasterPeer = nsOf(growthbookRow) <= nsOf(posthogRow) ? growthbookRow : posthogRow;
  const growthbookDiff = mismatches(verdict.out, growthbookRow.out);
  const posthogDiff = mismatches(verdictPh.out, posthogRow.out);
  const speedupOverFaster = nsOf(fasterPeer) / nsOf(verdict);

  const result: BenchResult = {
    id: "eval",
    title: "In-process evaluation",
    method:
      `${SUBJECTS.toLocaleString("en")} seeded UUID-shaped ids through one experiment (\`${SLUG}\`: 34/33/33 on ${TRAFFIC_PERCENT}% traffic), ` +
      `in one Node ${process.version} process: warm-up on ${WARM_UP_IDS.toLocaleString("en")} ids, then interleaved timed passes over all ids ` +
      `(${PASSES} each, ${POSTHOG_PASSES} for posthog-node), median pass reported. GrowthBook runs the same experiment inline ` +
      "(key = seed = slug, weights, coverage, hashVersion 2) through its multi-user server client; posthog-node evaluates the same " +
      "multivariate flag locally from definitions served by a loopback stand-in, without `$feature_flag_called` events.",
    columns: [
      "Implementation",
      "ns / assignment (median)",
      "best pass (ns)",
      "CPU ns / assignment (median)",
      "assignments / s",
      "× Verdict (same hashing)",
    ],
    rows: contenders.map((contender) => {
      const baseline = contender === posthogRow || contender === verdictPh ? verdictPh : verdict;
      return [
        contender.label,
        nsOf(contender),
        Math.min(...contender.timings),
        median(contender.cpuTimings),
        Math.round(1e9 / nsOf(contender)),
        contender === baseline ? "1.00" : (nsOf(contender) / nsOf(baseline)).toFixed(2),
      ];
    }),
    ratios: [
      { label: "GrowthBook / Verdict (growthbook-v2)", value: nsOf(growthbookRow) / nsOf(verdict) },
      { label: "posthog-node / Verdict (posthog hashing)", value: nsOf(posthogRow) / nsOf(verdictPh) },
      { label: "posthog-node / Verdict (growthbook-v2)", value: nsOf(posthogRow) / nsOf(verdict) },
    ],
    targets: [
      {
        label: "Verdict at least 2× faster than the faster peer",
        met: speedupOverFaster >= 2,
        detail: `${speedupOverFaster.toFixed(2)}× faster than ${fasterPeer === growthbookRow ? "GrowthBook" : "posthog-node"} (${nsOf(verdict).toFixed(1)} vs ${nsOf(fasterPeer).toFixed(1)} ns)`,
      },
      {
        label: "Verdict's posthog hashing at least 2× faster than posthog-node",
        met: nsOf(posthogRow) / nsOf(verdictPh) >= 2,
        detail: `${(nsOf(posthogRow) / nsOf(verdictPh)).toFixed(2)}× (${nsOf(verdictPh).toFixed(1)} vs ${nsOf(posthogRow).toFixed(1)} ns)`,
      },
      {
        label: "Assignments identical to GrowthBook's",
        met: growthbookDiff.count === 0,
        detail: `${(SUBJECTS - growthbookDiff.count).toLocaleString("en")} of ${SUBJECTS.toLocaleString("en")} identical${growthbookDiff.count ? ` (${growthbookDiff.examples.join("; ")})` : ""}`,
      },
      {
        label: "Posthog-mode assignments identical to posthog-node's",
        met: posthogDiff.count === 0,
        detail: `${(SUBJECTS - posthogDiff.count).toLocaleString("en")} of ${SUBJECTS.toLocaleString("en")} identical${posthogDiff.count ? ` (${posthogDiff.examples.join("; ")})` : ""}`,
      },
    ],
    notes: [
      `Load average (1 min) ${loadBefore.toFixed(2)} before and ${os.loadavg()[0]?.toFixed(2)} after, on ${os.availableParallelism()} cores: ` +
        "wall-clock times include any time other processes took the CPU (interleaved passes spread it over every contender); the CPU column does not.",
      `Split under growthbook-v2: ${shares(verdict.out)}. Under posthog hashing: ${shares(verdictPh.out)}.`,
      "posthog-node's per-call cost is dominated by its asynchronous path (Web Crypto SHA-1 digests and awaits per call); Verdict's is synchronous.",
      "posthog-node 5 loads definitions from `GET /flags/definitions?token=…&send_cohorts` with the `secretKey` option " +
        "(the new name of `personalApiKey`); the stand-in serves that path (and the older `/api/feature_flag/local_evaluation`).",
    ],
  };
  // A missed target is a result, not a failure: the exit code stays 0 and BENCHMARKS.md shows ❌.
  report(result);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
