import { normalQuantile } from "./distributions";
import { DEFAULT_ALPHA } from "./types";

export type SampleSizeInput = {
  /** Control conversion rate, in (0, 1). */
  baselineRate: number;
  /** Smallest relative lift worth detecting (0.1 = +10%); non-zero, and the new rate must stay ≤ 1. */
  minDetectableEffect: number;
  alpha?: number;
  power?: number;
  /** Participants enrolled per day across all variants; when given, the result has a duration. */
  dailyTraffic?: number;
  /** Arms sharing that traffic, control included; default 2. */
  variants?: number;
  /** Participants enrolled so far (all arms); default 0. */
  enrolled?: number;
};

export type DurationEstimate = { totalNeeded: number; remaining: number; days: number | null };

export type SampleSizeResult = {
  perVariant: number;
  exact: number;
  /** Time to the planned sample (see `estimateDuration`); null when no daily traffic was given. */
  duration: DurationEstimate | null;
};

/**
 * Participants per variant for a two-sided two-proportion z-test (definitions:
 * shared/vectors/README.md): p2 = p1(1 + m), p̄ = (p1 + p2)/2,
 * n = (z(1 − α/2)·sqrt(2p̄(1 − p̄)) + z(power)·sqrt(p1(1 − p1) + p2(1 − p2)))² / (p2 − p1)²;
 * perVariant = ceil(n), exact = n. With `dailyTraffic`, also the days to that sample over
 * `variants` arms. Throws RangeError on inputs with no answer.
 */
export function sampleSize(input: SampleSizeInput): SampleSizeResult {
  const { baselineRate: p1, minDetectableEffect } = input;
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const power = input.power ?? 0.8;
  if (!(p1 > 0 && p1 < 1)) throw new RangeError(`baselineRate must be in (0, 1), got ${p1}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(power > 0 && power < 1)) throw new RangeError(`power must be in (0, 1), got ${power}`);
  const p2 = p1 * (1 + minDetectableEffect);
  if (!(Number.isFinite(minDetectableEffect) && minDetectableEffect !== 0 && p2 >= 0 && p2 <= 1)) {
    throw new RangeError(
      `minDetectableEffect must be non-zero and keep the rate within [0, 1], got ${minDetectableEffect}`,
    );
  }
  const meanRate = (p1 + p2) / 2;
  const numerator =
    normalQuantile(1 - alpha / 2) * Math.sqrt(2 * meanRate * (1 - meanRate)) +
    normalQuantile(power) * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  const exact = (numerator * numerator) / ((p2 - p1) * (p2 - p1));
  const perVariant = Math.ceil(exact);
  const duration =
    input.dailyTraffic === undefined
      ? null
      : estimateDuration({
          perVariant,
          variants: input.variants ?? 2,
          dailyTraffic: input.dailyTraffic,
          enrolled: input.enrolled,
        });
  return { perVariant, exact, duration };
}

export type DurationInput = {
  perVariant: number;
  variants: number;
  /** Participants enrolled per day across all variants. */
  dailyTraffic: number;
  /** Participants enrolled so far; default 0. */
  enrolled?: number;
};

/**
 * Time to the planned sample: totalNeeded = perVariant·variants, remaining = what is still
 * missing, days = ceil(remaining/dailyTraffic) (0 when reached, null when there is no traffic).
 */
export function estimateDuration(input: DurationInput): DurationEstimate {
  const { perVariant, variants, dailyTraffic } = input;
  const enrolled = input.enrolled ?? 0;
  for (const [name, value] of Object.entries({ perVariant, variants, dailyTraffic, enrolled })) {
    if (!(Number.isFinite(value) && value >= 0))
      throw new RangeError(`${name} must be a non-negative number, got ${value}`);
  }
  const totalNeeded = perVariant * variants;
  const remaining = Math.max(0, totalNeeded - enrolled);
  const days = remaining === 0 ? 0 : dailyTraffic > 0 ? Math.ceil(remaining / dailyTraffic) : null;
  return { totalNeeded, remaining, days };
}

/**
 * Below this many participants in any arm, results show "too little data": the normal
 * approximations behind the intervals are not trustworthy yet, and early swings mislead.
 */
export const MIN_SAMPLE_PER_ARM = 100;
/** For conversion metrics, at least this many conversions across all arms before results count. */
export const MIN_TOTAL_CONVERSIONS = 10;

/**
 * Whether there is enough data to show results: at least two arms, each with MIN_SAMPLE_PER_ARM
 * participants, and (when conversions are given) MIN_TOTAL_CONVERSIONS conversions in total.
 */
export function hasEnoughData(arms: { n: number; conversions?: number }[]): boolean {
  if (arms.length < 2 || arms.some((arm) => !(arm.n >= MIN_SAMPLE_PER_ARM))) return false;
  const counted = arms.filter((arm) => arm.conversions !== undefined);
  if (counted.length === 0) return true;
  return counted.reduce((sum, arm) => sum + (arm.conversions ?? 0), 0) >= MIN_TOTAL_CONVERSIONS;
}
