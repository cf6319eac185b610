import { experimentConfigSchema } from "@/features/experiments/core/config";
import { isEnabled } from "@/features/experiments/core/lifecycle";
import type { Prisma } from "@/generated/prisma/client";
import { ExperimentError } from "./errors";
import { toExperimentMetadata } from "./metadata";

/**
 * The flag's part of LifecycleService.convertFlag, inside its transaction: the flag row becomes the
 * experiment, and each subject's explicit flag state becomes their assignment. Returns the flag as
 * it was, the new configuration and the counts carried over, for the audit row.
 */
export async function turnFlagIntoExperiment(
  tx: Prisma.TransactionClient,
  flagSlug: string,
  options: { scope?: "user" | "team"; start?: boolean },
  now: Date,
) {
  const scope = options.scope ?? "user";
  const flag = await tx.feature.findUnique({
    where: { slug: flagSlug },
    select: { type: true, description: true, metadata: true },
  });
  if (!flag) throw new ExperimentError("EXPERIMENT_NOT_FOUND", `No flag "${flagSlug}"`);
  if (flag.type !== "FLAG")
    throw new ExperimentError("INVALID_CHANGE", `"${flagSlug}" is already an experiment.`);
  const config = experimentConfigSchema.parse({
    variants: [
      { name: "control", percentage: 50, description: "Flag off" },
      { name: "treatment", percentage: 50, description: "Flag on" },
    ],
    scope,
    status: options.start === false ? "draft" : "running",
    startedAt: options.start === false ? null : now.toISOString(),
  });
  await tx.feature.update({
    where: { slug: flagSlug },
    data: {
      type: "EXPERIMENT",
      enabled: isEnabled(config),
      metadata: toExperimentMetadata(config),
      version: { increment: 1 },
    },
  });
  const states =
    scope === "user"
      ? (
          await tx.userFeature.findMany({
            where: { featureSlug: flagSlug },
            select: { userId: true, enabled: true },
          })
        ).map((state) => ({ column: "userId" as const, id: state.userId, enabled: state.enabled }))
      : (
          await tx.teamFeature.findMany({
            where: { featureSlug: flagSlug },
            select: { teamId: true, enabled: true },
          })
        ).map((state) => ({ column: "teamId" as const, id: state.teamId, enabled: state.enabled }));
  await tx.experimentVariant.createMany({
    data: states.map((state) => ({
      experimentSlug: flagSlug,
      phase: 1,
      variant: state.enabled ? "treatment" : "control",
      [state.column]: state.id,
      assignmentType: "DETERMINISTIC" as const,
      origin: "FLAG_CONVERSION" as const,
      assignedAt: now,
    })),
    skipDuplicates: true,
  });
  const carriedOver = {
    treatment: states.filter((state) => state.enabled).length,
    control: states.filter((state) => !state.enabled).length,
  };
  return { flag, config, carriedOver };
}
