import {
  type ExperimentConfig,
  experimentConfigSchema,
  parseExperimentConfig,
} from "@/features/experiments/core/config";
import type { Prisma } from "@/generated/prisma/client";

/**
 * The JSON written to `Feature.metadata`. Validated on the way in as well as on the way out, so
 * a bad configuration is refused at the write and never lands in the database. The cast is safe:
 * the schema's output is plain JSON (strings, numbers, booleans, arrays, objects, null).
 */
export function toExperimentMetadata(config: ExperimentConfig): Prisma.InputJsonObject {
  return experimentConfigSchema.parse(config) as Prisma.InputJsonObject;
}

export { parseExperimentConfig as fromExperimentMetadata };
