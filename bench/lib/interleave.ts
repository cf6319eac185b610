import {
  type LoadOptions,
  type LoadSummary,
  logSummary,
  type Measurement,
  measureLoad,
  summarize,
} from "./load";

/**
 * Workloads compared with one another (Verdict against the framework's floor) in short slices
 * taken in turn, instead of each for its whole duration one after the other. A shared VM's speed
 * drifts by a factor of two within minutes; run back to back, one workload can get a fast phase
 * and the next a slow one, and their ratio measures the machine. In turns, every workload sees
 * the same phases, and each one's figures pool all of its slices.
 */
export type InterleaveOptions = {
  /** How many turns each workload gets; its `durationSeconds` is split evenly between them. */
  rounds: number;
};

/**
 * Round `round`'s order: a row of a balanced Latin square (Williams' design). Over as many rounds
 * as workloads, each takes every position once and, for an even count, follows every other one
 * exactly once. A plain rotation kept the same neighbours every round, so one workload always
 * came after the floor and inherited the garbage collections its higher rate had built up.
 */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const count = items.length;
  if (!count) return [];
  // First row 0, 1, n-1, 2, n-2, …; each later row adds the round to every entry.
  const first = Array.from({ length: count }, (_, position) =>
    position === 0 ? 0 : position % 2 === 1 ? (position + 1) / 2 : count - position / 2,
  );
  return first.map((index) => items[(index + round) % count] as T);
}

/** Runs the workloads in turns; the summaries come back in the order the workloads were given. */
export async function runInterleaved(
  workloads: readonly LoadOptions[],
  { rounds }: InterleaveOptions,
): Promise<LoadSummary[]> {
  const slices: Measurement[][] = workloads.map(() => []);
  const started = Date.now();
  const indexes = workloads.map((_, index) => index);
  for (let round = 0; round < rounds; round += 1) {
    for (const index of roundOrder(indexes, round)) {
      const workload = workloads[index] as LoadOptions;
      const sliceStarted = Date.now();
      const slice = await measureLoad({
        ...workload,
        durationSeconds: (workload.durationSeconds ?? 10) / rounds,
      });
      slices[index]?.push(slice);
      logSummary(
        summarize(`${workload.label} (turn ${round + 1}/${rounds})`, [slice]),
        (Date.now() - sliceStarted) / 1000,
      );
    }
  }
  const seconds = (Date.now() - started) / 1000;
  return workloads.map((workload, index) => {
    const summary = summarize(workload.label, slices[index] ?? []);
    logSummary(summary, seconds);
    return summary;
  });
}
