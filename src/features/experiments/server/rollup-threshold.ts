/**
 * Above this many assignments in a phase, every figure comes from the daily rollups: the event
 * store's figures (CUPED's sums included), as of their last refresh, minutes old. The default of
 * RESULTS_ROLLUP_THRESHOLD; its own module so the environment's schema can read it.
 */
export const ROLLUP_THRESHOLD = 250_000;
