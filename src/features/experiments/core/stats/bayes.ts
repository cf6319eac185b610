/**
 * Exact Bayesian comparisons of k arms by numerical integration (no Monte Carlo):
 *   P(arm i is best) = ∫ f_i(x)·Π_{j≠i} F_j(x) dx,
 *   E[max_j θ_j]     = lower end + ∫ (1 − Π_j F_j(x)) dx over the arms' joint range,
 *   expected loss_i  = E[max_j θ_j − θ_i] = E[max_j θ_j] − E[θ_i].
 * All of them come from one vector-valued adaptive quadrature, so each arm's cdf is evaluated
 * once per node. The range runs between the arms' quantiles 1e-15 and 1 − 1e-15 and is split at
 * a ladder of every arm's quantiles, so even the very narrow posteriors of arms with millions of
 * participants are integrated panel by panel.
 *
 * The Beta density is evaluated relative to its mode and normalized numerically (∫ f_i is
 * integrated alongside): the textbook form exp((a−1)ln x + (b−1)ln(1−x) − ln B(a, b)) subtracts
 * numbers near 10⁷ when n is in the millions and loses eight digits doing so. The cdfs (the
 * regularized incomplete beta function, the normal cdf) come from @stdlib.
 */
import { betaCdf, betaQuantile, normalCdfAt, normalPdf } from "./distributions";
import { integrateMany } from "./quadrature";
import { assertProportionArm, type ProportionArm } from "./types";

type ContinuousPosterior = {
  kind: "continuous";
  mean: number;
  /** The density up to a constant factor; normalized by integration. */
  density(x: number): number;
  cdf(x: number): number;
  /** Quantiles 1e-15 and 1 − 1e-15: outside them the posterior has no mass worth a double. */
  lower: number;
  upper: number;
  /** Interior quantiles where the density changes shape; used as integration breakpoints. */
  landmarks: number[];
};
/** A value known exactly (a zero standard error). */
type PointMass = { kind: "point"; mean: number };
type Posterior = ContinuousPosterior | PointMass;

const TAIL = 1e-15;
const LANDMARK_LEVELS = [1e-9, 1e-5, 0.001, 0.02, 0.16, 0.5, 0.84, 0.98, 0.999, 1 - 1e-5, 1 - 1e-9];
/** Standard normal quantile of 1e-15 (Φ(−7.94) ≈ 1e-15). */
const NORMAL_TAIL_Z = 7.941345326170997;

/**
 * x^(a−1)(1−x)^(b−1) divided by its value at the mode m, as exp((a−1)·ln(x/m) + (b−1)·ln((1−x)/(1−m))):
 * near the mode both logarithms are log1p of small, exactly computed ratios, so the result keeps
 * full precision where the mass is. a, b ≥ 1 (posteriors under a uniform prior).
 */
function betaDensityAboutMode(a: number, b: number): (x: number) => number {
  const mode = a + b > 2 ? (a - 1) / (a + b - 2) : 0.5;
  return (x) => {
    if (x <= 0 || x >= 1) return 0;
    const left = a > 1 ? (a - 1) * Math.log1p((x - mode) / mode) : 0;
    const right = b > 1 ? (b - 1) * Math.log1p((mode - x) / (1 - mode)) : 0;
    return Math.exp(left + right);
  };
}

/** Beta(1 + conversions, 1 + n − conversions): the posterior under a uniform prior. */
function betaPosterior(arm: ProportionArm): Posterior {
  const a = 1 + arm.conversions;
  const b = 1 + arm.n - arm.conversions;
  return {
    kind: "continuous",
    mean: a / (a + b),
    density: betaDensityAboutMode(a, b),
    cdf: (x) => betaCdf(x, a, b),
    lower: betaQuantile(TAIL, a, b),
    upper: betaQuantile(1 - TAIL, a, b),
    landmarks: LANDMARK_LEVELS.map((level) => betaQuantile(level, a, b)),
  };
}

/** Normal(mean, se²); a zero standard error is a point mass. */
function normalPosterior(mean: number, se: number): Posterior {
  if (se === 0) return { kind: "point", mean };
  return {
    kind: "continuous",
    mean,
    density: (x) => normalPdf(x, mean, se),
    cdf: (x) => normalCdfAt(x, mean, se),
    lower: mean - NORMAL_TAIL_Z * se,
    upper: mean + NORMAL_TAIL_Z * se,
    landmarks: [-6, -4, -2, -1, 0, 1, 2, 4, 6].map((z) => mean + z * se),
  };
}

const cdfOf = (posterior: Posterior, x: number) =>
  posterior.kind === "point" ? (x >= posterior.mean ? 1 : 0) : posterior.cdf(x);

export type BestArmResult = { probabilities: number[]; expectedLoss: number[] };

function compareArms(posteriors: Posterior[]): BestArmResult {
  const k = posteriors.length;
  if (k === 0) return { probabilities: [], expectedLoss: [] };
  if (k === 1) return { probabilities: [1], expectedLoss: [0] };
  const continuous = posteriors.flatMap((posterior, index) =>
    posterior.kind === "continuous" ? [{ posterior, index }] : [],
  );
  const start = Math.min(...posteriors.map((p) => (p.kind === "point" ? p.mean : p.lower)));
  const end = Math.max(...posteriors.map((p) => (p.kind === "point" ? p.mean : p.upper)));
  const breakpoints = posteriors.flatMap((p) =>
    p.kind === "point" ? [p.mean] : [p.lower, p.upper, ...p.landmarks],
  );

  // Components: for each continuous arm, ∫ f·Π_{j≠i}F_j and ∫ f; last, ∫ (1 − Π_j F_j).
  const integrand = (x: number): number[] => {
    const cdfs = posteriors.map((posterior) => cdfOf(posterior, x));
    // Products of all cdfs before and after each arm, so Π_{j≠i} needs no division by a zero cdf.
    const before = [1];
    for (let j = 0; j < k; j++) before.push((before[j] as number) * (cdfs[j] as number));
    const after = new Array<number>(k + 1).fill(1);
    for (let j = k - 1; j >= 0; j--) after[j] = (after[j + 1] as number) * (cdfs[j] as number);
    const out: number[] = [];
    for (const { posterior, index } of continuous) {
      const density = (posterior as ContinuousPosterior).density(x);
      out.push(density * (before[index] as number) * (after[index + 1] as number), density);
    }
    out.push(1 - (before[k] as number));
    return out;
  };
  const integrals = integrateMany(integrand, start, end, 2 * continuous.length + 1, { breakpoints });

  const raw = new Array<number>(k).fill(0);
  continuous.forEach(({ index }, c) => {
    raw[index] = (integrals[2 * c] as number) / (integrals[2 * c + 1] as number);
  });
  posteriors.forEach((posterior, index) => {
    if (posterior.kind !== "point") return;
    // A point mass is best when every other arm is below it; exact ties share equally.
    const higherPoint = posteriors.some((other) => other.kind === "point" && other.mean > posterior.mean);
    if (higherPoint) return;
    const tied = posteriors.filter((other) => other.kind === "point" && other.mean === posterior.mean).length;
    raw[index] =
      continuous.reduce((product, { posterior: other }) => product * cdfOf(other, posterior.mean), 1) / tied;
  });
  const total = raw.reduce((sum, p) => sum + p, 0);
  // The integrals are accurate to ~1e-12; dividing by their sum makes the probabilities add to 1.
  const probabilities = raw.map((p) => Math.min(1, Math.max(0, p / total)));
  const expectedMaximum = start + (integrals[integrals.length - 1] as number);
  const expectedLoss = posteriors.map((posterior) => Math.max(0, expectedMaximum - posterior.mean));
  return { probabilities, expectedLoss };
}

/**
 * Probability that each arm has the highest conversion rate, and the expected loss of choosing
 * it (E[max_j θ_j − θ_i], in conversion-rate units), with Beta(1 + c, 1 + n − c) posteriors
 * (uniform prior), by exact numerical integration. An empty arm has the uniform posterior.
 */
export function probabilityToBeBest(arms: ProportionArm[]): BestArmResult {
  arms.forEach((arm, i) => {
    assertProportionArm(arm, `arms[${i}]`);
  });
  return compareArms(arms.map(betaPosterior));
}

/**
 * The same for continuous metrics with normal posteriors N(mean, se²), e.g. each arm's mean and
 * standard error; a zero se is a known value. Against a zero-width control, a lift estimate's
 * expected losses are gbstats' risks E[max(Δ, 0)] and E[max(−Δ, 0)].
 */
export function probabilityToBeBestNormal(arms: { mean: number; se: number }[]): BestArmResult {
  arms.forEach((arm, i) => {
    if (!Number.isFinite(arm.mean)) throw new RangeError(`arms[${i}].mean must be finite, got ${arm.mean}`);
    if (!(Number.isFinite(arm.se) && arm.se >= 0)) {
      throw new RangeError(`arms[${i}].se must be a non-negative number, got ${arm.se}`);
    }
  });
  return compareArms(arms.map((arm) => normalPosterior(arm.mean, arm.se)));
}

/**
 * P(θ_treatment > θ_control) with Beta(1 + conversions, 1 + n − conversions) posteriors, by exact
 * numerical integration (equal to Evan Miller's closed-form sum to ~1e-12).
 */
export function betaChanceToBeat(control: ProportionArm, treatment: ProportionArm): number {
  return probabilityToBeBest([control, treatment]).probabilities[1] as number;
}
