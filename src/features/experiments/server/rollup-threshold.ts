/**
 * Above this many assignments in a phase, every figure comes from the daily rollups: the same
 * counts as the event store's, except that CUPED needs each subject's purchase history, so only
 * large tests (where its variance reduction is worth less than the speed) read them. The default
 * of RESULTS_ROLLUP_THRESHOLD; its own module so the environment's schema can read it.
 */
export const ROLLUP_THRESHOLD = 250_000;
