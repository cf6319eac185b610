import autocannon from "autocannon";
import { cpuMeter } from "./cpu";
import { quantile, runPaced } from "./paced";

/**
 * HTTP load through autocannon's programmatic API, summarised the way the benchmarks report it.
 * Requests per second are counted over the whole run (total / duration), not autocannon's
 * per-second average, so a slow start or end counts too.
 */
export type LoadSummary = {
  label: string;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** The errors by code, where the driver tells them apart (the paced one does). */
  errorCodes?: Record<string, number>;
  non2xx: number;
  durationSeconds: number;
  /** Paced runs: the p99 of how late the load generator sent its requests (see paced.ts). */
  sendLagP99Ms?: number;
  /**
   * The p99 of each slice the figures pool, in the order run: whether a tail is spread over the
   * run or comes from one stall in one slice (a major garbage collection, a busy neighbour).
   */
  sliceP99Ms: number[];
  /** CPU milliseconds per request of the app's processes and of its PostgreSQL backends (null: unknown). */
  appCpuMs: number | null;
  databaseCpuMs: number | null;
};

/** Readers of cumulative CPU seconds (see cpu.ts). */
export type CpuReaders = { app: () => number | null; database: () => number | null };

export type LoadOptions = {
  label: string;
  url: string;
  connections: number;
  /** Seconds of load; ignored when `amount` is given. */
  durationSeconds?: number;
  /** Exactly this many requests, then stop. */
  amount?: number;
  requests: autocannon.Request[];
  headers?: Record<string, string>;
  timeoutSeconds?: number;
  cpu?: CpuReaders;
  /**
   * Requests per second across all connections, started on a fixed schedule (see paced.ts) rather
   * than by autocannon; unset means autocannon as fast as the connections go.
   */
  overallRate?: number;
};

/**
 * What one run measured, raw: a latency per answer and CPU seconds rather than percentiles and
 * per-request figures, so runs of the same workload (see interleave.ts) can be added up.
 */
export type Measurement = {
  requests: number;
  latenciesMs: number[];
  /** Paced runs only: how late each request was sent. */
  sendLagsMs?: number[];
  /** Connection errors and timeouts. */
  errors: number;
  errorCodes?: Record<string, number>;
  non2xx: number;
  durationSeconds: number;
  appCpuSeconds: number | null;
  databaseCpuSeconds: number | null;
};

/** One run of load, measured raw (nothing summarised, nothing printed). */
export async function measureLoad(options: LoadOptions): Promise<Measurement> {
  const appCpu = options.cpu ? cpuMeter(options.cpu.app) : () => null;
  const databaseCpu = options.cpu ? cpuMeter(options.cpu.database) : () => null;
  const driven = options.overallRate ? await paced(options, options.overallRate) : await saturated(options);
  return { ...driven, appCpuSeconds: appCpu(), databaseCpuSeconds: databaseCpu() };
}

/** Runs of one workload as one: totals, and percentiles over every answer of every run. */
export function summarize(label: string, runs: Measurement[]): LoadSummary {
  const total = (pick: (run: Measurement) => number) => runs.reduce((sum, run) => sum + pick(run), 0);
  const requests = total((run) => run.requests);
  const durationSeconds = total((run) => run.durationSeconds);
  const latencies = runs.flatMap((run) => run.latenciesMs);
  const sendLags = runs.flatMap((run) => run.sendLagsMs ?? []);
  const errorCodes: Record<string, number> = {};
  for (const run of runs)
    for (const [code, count] of Object.entries(run.errorCodes ?? {}))
      errorCodes[code] = (errorCodes[code] ?? 0) + count;
  const cpuMsPerRequest = (pick: (run: Measurement) => number | null) => {
    const seconds = runs.map(pick);
    if (!requests || seconds.some((value) => value === null)) return null;
    return ((seconds as number[]).reduce((sum, value) => sum + value, 0) * 1000) / requests;
  };
  return {
    label,
    requests,
    requestsPerSecond: requests / Math.max(durationSeconds, 1e-9),
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    errors: total((run) => run.errors),
    ...(runs.some((run) => run.errorCodes) ? { errorCodes } : {}),
    non2xx: total((run) => run.non2xx),
    durationSeconds,
    ...(sendLags.length ? { sendLagP99Ms: quantile(sendLags, 0.99) } : {}),
    sliceP99Ms: runs.map((run) => quantile(run.latenciesMs, 0.99)),
    appCpuMs: cpuMsPerRequest((run) => run.appCpuSeconds),
    databaseCpuMs: cpuMsPerRequest((run) => run.databaseCpuSeconds),
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const started = Date.now();
  const summary = summarize(options.label, [await measureLoad(options)]);
  logSummary(summary, (Date.now() - started) / 1000);
  return summary;
}

/** The progress line a finished workload prints. */
export function logSummary(summary: LoadSummary, seconds: number): void {
  console.error(
    `• ${summary.label}: ${Math.round(summary.requestsPerSecond)} req/s, p50 ${summary.p50Ms} ms, ` +
      `p99 ${summary.p99Ms} ms, ${summary.errors} errors${describeErrors(summary)}, ${summary.non2xx} non-2xx, ` +
      `CPU/request app ${summary.appCpuMs?.toFixed(2) ?? "n/a"} ms, db ${summary.databaseCpuMs?.toFixed(2) ?? "n/a"} ms ` +
      `(${seconds.toFixed(1)} s)`,
  );
}

type Driven = Omit<Measurement, "appCpuSeconds" | "databaseCpuSeconds">;

/**
 * autocannon's closed loop: every connection sends its next request as soon as one is answered.
 * The latencies come from its per-answer events (every status, as its own histogram counts
 * them), so they can be pooled across runs.
 */
async function saturated(options: LoadOptions): Promise<Driven> {
  const latenciesMs: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        duration: options.durationSeconds ?? 10,
        amount: options.amount,
        requests: options.requests,
        headers: options.headers,
        timeout: options.timeoutSeconds ?? 10,
      },
      (error, finished) => (error ? reject(error) : resolve(finished)),
    );
    instance.on("response", (_client, _status, _bytes, responseTimeMs) => {
      latenciesMs.push(responseTimeMs);
    });
  });
  return {
    requests: result.requests.total,
    latenciesMs,
    errors: result.errors,
    non2xx: result.non2xx,
    durationSeconds: result.duration,
  };
}

async function paced(options: LoadOptions, ratePerSecond: number): Promise<Driven> {
  const result = await runPaced({
    url: options.url,
    connections: options.connections,
    durationSeconds: options.durationSeconds ?? 10,
    ratePerSecond,
    requests: options.requests,
    timeoutSeconds: options.timeoutSeconds,
  });
  return {
    requests: result.requests,
    latenciesMs: result.latenciesMs,
    sendLagsMs: result.sendLagsMs,
    errors: result.errors,
    errorCodes: result.errorCodes,
    non2xx: result.non2xx,
    durationSeconds: result.durationSeconds,
  };
}

/** ` (ECONNRESET 2, timeout 1)`, or nothing when the driver did not tell the errors apart. */
export function describeErrors(summary: Pick<LoadSummary, "errorCodes">): string {
  const codes = Object.entries(summary.errorCodes ?? {});
  return codes.length ? ` (${codes.map(([code, count]) => `${code} ${count}`).join(", ")})` : "";
}

/** Reads `--name value` (or `--name=value`) from the command line. */
export function numberOption(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    const value =
      arg === `--${name}` ? args[index + 1] : arg.startsWith(`--${name}=`) ? arg.split("=")[1] : null;
    if (value != null) {
      const parsed = Number(value);
      if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} needs a positive number`);
      return parsed;
    }
  }
  return fallback;
}

export function stringOption(name: string): string | undefined {
  const args = process.argv.slice(2);
  const index = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return undefined;
  const arg = args[index] as string;
  return arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : args[index + 1];
}
