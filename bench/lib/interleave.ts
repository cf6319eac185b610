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

/** Round `round`'s order: the list rotated by `round`, so each workload takes every position once. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  if (!items.length) return [];
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
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
