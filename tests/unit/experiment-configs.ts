import { type ExperimentConfig, experimentConfigSchema } from "@/features/experiments/core/config";

/** A valid visitor-scoped 50/50 configuration (a draft unless `overrides` say otherwise). */
export const testConfig = (overrides: Partial<ExperimentConfig> = {}): ExperimentConfig =>
  experimentConfigSchema.parse({
    variants: [
      { name: "control", percentage: 50 },
      { name: "treatment", percentage: 50 },
    ],
    scope: "visitor",
    ...overrides,
  });
