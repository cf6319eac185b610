/**
 * Distribution functions, all from the @stdlib packages (ports of Cephes and Boost, well tested),
 * wrapped so the rest of the stats core reads in statistical terms and asks for tail
 * probabilities directly: `1 − cdf(x)` loses every digit once the tail drops below 1e-16.
 */
import gammainc from "@stdlib/math-base-special-gammainc";
import betaCdfImpl from "@stdlib/stats-base-dists-beta-cdf";
import betaPdfImpl from "@stdlib/stats-base-dists-beta-pdf";
import betaQuantileImpl from "@stdlib/stats-base-dists-beta-quantile";
import normalCdfImpl from "@stdlib/stats-base-dists-normal-cdf";
import normalPdfImpl from "@stdlib/stats-base-dists-normal-pdf";
import normalQuantileImpl from "@stdlib/stats-base-dists-normal-quantile";
import tCdfImpl from "@stdlib/stats-base-dists-t-cdf";
import tQuantileImpl from "@stdlib/stats-base-dists-t-quantile";

/** Past this many degrees of freedom Student's t is the standard normal to double precision. */
const NORMAL_LIMIT_DF = 1e12;

/** Φ(x), the standard normal cdf. */
export function normalCdf(x: number): number {
  return normalCdfImpl(x, 0, 1);
}

/** φ((x − mean)/sd)/sd, the normal density. */
export function normalPdf(x: number, mean: number, sd: number): number {
  return normalPdfImpl(x, mean, sd);
}

/** Φ((x − mean)/sd), the normal cdf. */
export function normalCdfAt(x: number, mean: number, sd: number): number {
  return normalCdfImpl(x, mean, sd);
}

/** Φ⁻¹(p), the standard normal quantile. */
export function normalQuantile(p: number): number {
  return normalQuantileImpl(p, 0, 1);
}

/** Two-sided normal p-value 2·Φ(−|z|), exact in the far tail. */
export function normalTwoSidedPValue(z: number): number {
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/** Student's t cdf with `df` degrees of freedom (the normal cdf when df is effectively infinite). */
export function studentTCdf(x: number, df: number): number {
  return df > NORMAL_LIMIT_DF ? normalCdf(x) : tCdfImpl(x, df);
}

/** Student's t quantile with `df` degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  return df > NORMAL_LIMIT_DF ? normalQuantile(p) : tQuantileImpl(p, df);
}

/** Two-sided Student's t p-value 2·T(−|t|; df). */
export function studentTTwoSidedPValue(t: number, df: number): number {
  return Math.min(1, 2 * studentTCdf(-Math.abs(t), df));
}

/**
 * Upper tail of the χ² distribution, P(X ≥ x) with `df` degrees of freedom: the regularized upper
 * incomplete gamma function Q(df/2, x/2), computed directly rather than as 1 − cdf.
 */
export function chiSquareUpperTail(x: number, df: number): number {
  if (x <= 0) return 1;
  return gammainc(x / 2, df / 2, true, true);
}

/** Density of Beta(a, b) at x. */
export function betaPdf(x: number, a: number, b: number): number {
  return betaPdfImpl(x, a, b);
}

/** Cdf of Beta(a, b) at x (the regularized incomplete beta function I_x(a, b)). */
export function betaCdf(x: number, a: number, b: number): number {
  return betaCdfImpl(x, a, b);
}

/** Quantile of Beta(a, b). */
export function betaQuantile(p: number, a: number, b: number): number {
  return betaQuantileImpl(p, a, b);
}
