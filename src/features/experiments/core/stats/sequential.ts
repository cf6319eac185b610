/**
 * GrowthBook's always-valid inference: the asymptotic confidence sequences of Waudby-Smith et al.,
 * "Time-uniform central limit theory and asymptotic confidence sequences" (arXiv:2103.06476v7),
 * as gbstats' SequentialTwoSidedTTest applies them to a difference estimate. The sequence is
 * tightest near n = N* (the tuning parameter); n is the total sample across both arms.
 */

/** Mixing parameter ρ for tuning N* (eq. 161): ρ² = (−2 ln α + ln(−2 ln α + 1)) / N*. */
export function sequentialRho(alpha: number, tuning: number): number {
  const minusTwoLogAlpha = -2 * Math.log(alpha);
  return Math.sqrt((minusTwoLogAlpha + Math.log(minusTwoLogAlpha + 1)) / tuning);
}

/**
 * Half-width of the two-sided confidence sequence for an estimate with standard error `se` after
 * `n` observations (eq. 9): sqrt(s²·2(nρ² + 1)/(n²ρ²)·ln(sqrt(nρ² + 1)/α)) with s² = se²·n.
 */
export function sequentialHalfWidth(se: number, n: number, alpha: number, tuning: number): number {
  const rho = sequentialRho(alpha, tuning);
  const nRho2 = n * rho * rho;
  const perObservationVariance = se * se * n;
  return Math.sqrt(
    (perObservationVariance * 2 * (nRho2 + 1) * Math.log(Math.sqrt(nRho2 + 1) / alpha)) / (n * nRho2),
  );
}

/**
 * Always-valid p-value (eq. 155, GrowthBook's reparameterization): the reciprocal of the mixture
 * e-value sqrt(1/(nρ² + 1))·exp(ρ²·S/(2(nρ² + 1))) with S = estimate²·n/se², capped at 1.
 * Computed in logs so a huge statistic gives 0 rather than overflowing.
 */
export function sequentialPValue(
  estimate: number,
  se: number,
  n: number,
  alpha: number,
  tuning: number,
): number {
  const rho = sequentialRho(alpha, tuning);
  const rho2 = rho * rho;
  const nRho2PlusOne = n * rho2 + 1;
  const statistic = (estimate * estimate * n) / (se * se);
  const logPValue = 0.5 * Math.log(nRho2PlusOne) - (rho2 * statistic) / (2 * nRho2PlusOne);
  return Math.exp(Math.min(0, logPValue));
}
