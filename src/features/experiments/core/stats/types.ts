/** A two-sided interval [lower, upper]. */
export type Interval = [number, number];

/** One arm of a conversion metric: `conversions` of `n` participants converted. */
export type ProportionArm = { n: number; conversions: number };

/** One arm of a continuous metric: participants, mean, and sample variance (divisor n − 1). */
export type MeanArm = { n: number; mean: number; variance: number };

export type StatsOptions = {
  /** Significance level; default 0.05. */
  alpha?: number;
  /**
   * Always-valid (sequential) inference: GrowthBook's asymptotic confidence sequences, tuning
   * N* (default 5000 when `sequential: true`). Peeking at any time keeps the error rate at alpha.
   */
  sequential?: boolean;
  sequentialTuning?: number;
  /**
   * How `ciRelative` is built. "delta" (default): the delta method, as shared/vectors/README.md
   * defines it, so a plain call reproduces the reference vectors. "auto": the delta method,
   * switching to the log-ratio interval when the delta interval would cross −100% (an impossible
   * lift for non-negative metrics, typical of small samples); the results page asks for it.
   */
  relativeInterval?: "auto" | "delta";
};

/** Why a result field is `null` (the UI shows it). */
export type UndefinedReason = "control-rate-zero" | "control-mean-zero" | "empty-arm" | "too-little-data";

/** How `ciRelative` was computed. */
export type RelativeIntervalMethod = "delta" | "log-ratio";

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_SEQUENTIAL_TUNING = 5000;

export type ResolvedOptions = {
  alpha: number;
  sequential: boolean;
  sequentialTuning: number;
  relativeInterval: "auto" | "delta";
};

/** Fills in defaults and rejects options no test can run with (a programming error, not data). */
export function resolveOptions(opts: StatsOptions = {}): ResolvedOptions {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const sequentialTuning = opts.sequentialTuning ?? DEFAULT_SEQUENTIAL_TUNING;
  if (!(sequentialTuning > 0 && Number.isFinite(sequentialTuning))) {
    throw new RangeError(`sequentialTuning must be a positive number, got ${sequentialTuning}`);
  }
  return {
    alpha,
    sequential: opts.sequential ?? false,
    sequentialTuning,
    relativeInterval: opts.relativeInterval ?? "delta",
  };
}

export function assertProportionArm(arm: ProportionArm, label: string): void {
  const { n, conversions } = arm;
  if (!(Number.isFinite(n) && n >= 0))
    throw new RangeError(`${label}.n must be a non-negative number, got ${n}`);
  if (!(Number.isFinite(conversions) && conversions >= 0 && conversions <= n)) {
    throw new RangeError(`${label}.conversions must be within [0, n], got ${conversions} of ${n}`);
  }
}

export function assertMeanArm(arm: MeanArm, label: string): void {
  const { n, mean, variance } = arm;
  if (!(Number.isFinite(n) && n >= 0))
    throw new RangeError(`${label}.n must be a non-negative number, got ${n}`);
  if (!Number.isFinite(mean)) throw new RangeError(`${label}.mean must be finite, got ${mean}`);
  if (!(Number.isFinite(variance) && variance >= 0)) {
    throw new RangeError(`${label}.variance must be a non-negative number, got ${variance}`);
  }
}
