/**
 * Verdict's statistics core: pure, deterministic, no I/O, no sampling where exact math exists.
 * Reference definitions: shared/vectors/README.md; GrowthBook (gbstats) conventions where noted.
 */
export * from "./stats/bayes";
export * from "./stats/cuped";
export * from "./stats/effect";
export * from "./stats/mean";
export * from "./stats/multiple";
export * from "./stats/planning";
export * from "./stats/proportion";
export * from "./stats/sequential";
export * from "./stats/srm";
export {
  DEFAULT_ALPHA,
  DEFAULT_SEQUENTIAL_TUNING,
  type Interval,
  type MeanArm,
  type ProportionArm,
  type RelativeIntervalMethod,
  type StatsOptions,
  type UndefinedReason,
} from "./stats/types";
