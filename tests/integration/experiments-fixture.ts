import type { ExperimentConfigInput } from "@/features/experiments/core/config";
import { createExperimentServices, type ExperimentServices } from "@/features/experiments/server/services";
import type { TestDatabase } from "./databases";

export const ADMIN = { id: null, email: "admin@test.local" };

let counter = 0;
/** A fresh, valid slug per call, so tests sharing a database never collide. */
export function uniqueSlug(prefix = "exp"): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

export function servicesFor(
  test: TestDatabase,
  options: Parameters<typeof createExperimentServices>[2] = {},
): ExperimentServices {
  return createExperimentServices(test.db, test.target, options);
}

/** Creates an experiment through the lifecycle service (as an admin would) and optionally starts it. */
export async function createExperiment(
  services: ExperimentServices,
  config: Partial<ExperimentConfigInput> & { scope?: ExperimentConfigInput["scope"] } = {},
  options: { start?: boolean; slug?: string } = {},
) {
  const slug = options.slug ?? uniqueSlug();
  await services.lifecycle.create(
    {
      slug,
      description: `test ${slug}`,
      config: {
        variants: [
          { name: "control", percentage: 50 },
          { name: "treatment", percentage: 50 },
        ],
        scope: "visitor",
        ...config,
      },
    },
    ADMIN,
  );
  if (options.start ?? true) await services.lifecycle.transition(slug, "start", ADMIN);
  return slug;
}
