import {
  type ExperimentConfig,
  type ExperimentConfigInput,
  experimentConfigSchema,
  formatZodIssues,
  parseExperimentConfig,
} from "@/features/experiments/core/config";
import {
  applyConfigChange,
  applyTransition,
  applyWinner,
  type ConfigPatch,
  isEnabled,
  type LifecycleAction,
  type Outcome,
  type VariantChangeMode,
} from "@/features/experiments/core/lifecycle";
import { validateVariants } from "@/features/experiments/core/variants";
import { Prisma } from "@/generated/prisma/client";
import { ExperimentError, experimentNotFound } from "./errors";
import { turnFlagIntoExperiment } from "./flag-conversion";
import { toExperimentMetadata } from "./metadata";
import type { ExperimentRepository, StoredExperiment } from "./repository";

export type Actor = { id?: string | null; email?: string | null };

export type ExperimentRecord = {
  slug: string;
  description: string;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  config: ExperimentConfig;
};

type Clock = () => Date;

/**
 * Creates and changes experiments. Every change is one transaction: optimistic version check,
 * the new configuration, an audit row with before and after, and a NOTIFY so every instance drops
 * its cached configuration on commit. `onChanged` drops this instance's cache at once.
 */
export class LifecycleService {
  constructor(
    private readonly repository: ExperimentRepository,
    private readonly onChanged: (slug: string) => void,
    private readonly now: Clock = () => new Date(),
  ) {}

  async create(
    input: { slug: string; description?: string; config: ExperimentConfigInput },
    actor: Actor,
  ): Promise<ExperimentRecord> {
    const parsed = experimentConfigSchema.safeParse({ ...input.config, status: "draft", phase: 1 });
    if (!parsed.success)
      throw new ExperimentError("INVALID_CHANGE", formatZodIssues(parsed.error).join("; "));
    const check = validateVariants(parsed.data.variants);
    if (!check.valid) throw new ExperimentError("INVALID_CHANGE", check.problems.join(" "));
    const config = parsed.data;
    const db = this.repository.db;
    try {
      const row = await db.$transaction(async (tx) => {
        const created = await tx.feature.create({
          data: {
            slug: input.slug,
            type: "EXPERIMENT",
            enabled: false,
            description: input.description ?? "",
            metadata: toExperimentMetadata(config),
          },
        });
        await tx.auditLog.create({
          data: {
            ...actorFields(actor),
            action: "create",
            experimentSlug: input.slug,
            after: snapshot(created.description, config),
          },
        });
        await this.repository.notifyExperimentChanged(input.slug, tx);
        return created;
      });
      this.onChanged(input.slug);
      return toRecord(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
        throw new ExperimentError(
          "EXPERIMENT_EXISTS",
          `The slug "${input.slug}" is taken (by an experiment or a flag).`,
        );
      }
      throw error;
    }
  }

  transition(
    slug: string,
    action: LifecycleAction,
    actor: Actor,
    options: { winner?: string | null; expectedVersion?: number } = {},
  ): Promise<ExperimentRecord> {
    return this.change(slug, action, actor, options.expectedVersion, (current) =>
      applyTransition(current.config, action, this.now(), { winner: options.winner }),
    );
  }

  setWinner(slug: string, winner: string, actor: Actor, expectedVersion?: number): Promise<ExperimentRecord> {
    return this.change(slug, "set-winner", actor, expectedVersion, (current) =>
      applyWinner(current.config, winner),
    );
  }

  update(
    slug: string,
    patch: ConfigPatch & { description?: string },
    actor: Actor,
    options: { expectedVersion?: number; variantChange?: VariantChangeMode } = {},
  ): Promise<ExperimentRecord> {
    const { description, ...configPatch } = patch;
    return this.change(
      slug,
      options.variantChange === "rerandomize" ? "rerandomize" : "update",
      actor,
      options.expectedVersion,
      (current) => {
        const outcome = applyConfigChange(current.config, configPatch, options.variantChange);
        return outcome.ok ? { ...outcome, description } : outcome;
      },
    );
  }

  /**
   * Turns a feature flag into an experiment with `control` and `treatment`: subjects who had the
   * flag on are assigned `treatment` and those who had it explicitly off `control`, so nobody's
   * experience changes; everyone else is bucketed 50/50 from then on. One transaction.
   */
  async convertFlag(
    flagSlug: string,
    actor: Actor,
    options: { scope?: "user" | "team"; start?: boolean } = {},
  ): Promise<ExperimentRecord & { carriedOver: { treatment: number; control: number } }> {
    const now = this.now();
    const result = await this.repository.db.$transaction(async (tx) => {
      const { flag, config, carriedOver } = await turnFlagIntoExperiment(tx, flagSlug, options, now);
      await tx.auditLog.create({
        data: {
          ...actorFields(actor),
          action: "convert-flag",
          experimentSlug: flagSlug,
          before: {
            type: "FLAG",
            description: flag.description,
            metadata: flag.metadata as Prisma.InputJsonValue,
          },
          after: { ...snapshot(flag.description, config), carriedOver },
        },
      });
      await this.repository.notifyExperimentChanged(flagSlug, tx);
      const stored = await this.repository.findExperiment(flagSlug, tx);
      if (!stored) throw experimentNotFound(flagSlug);
      return { record: toRecord(stored), carriedOver };
    });
    this.onChanged(flagSlug);
    return { ...result.record, carriedOver: result.carriedOver };
  }

  /** Deletes the experiment and its assignments; its events and audit history stay. */
  async delete(slug: string, actor: Actor, expectedVersion?: number): Promise<void> {
    await this.repository.db.$transaction(async (tx) => {
      const current = await this.repository.findExperiment(slug, tx);
      if (!current) throw experimentNotFound(slug);
      if (expectedVersion !== undefined && current.version !== expectedVersion) throw conflict(slug);
      await tx.feature.delete({ where: { slug } });
      await tx.auditLog.create({
        data: {
          ...actorFields(actor),
          action: "delete",
          experimentSlug: slug,
          before: storedSnapshot(current),
        },
      });
      await this.repository.notifyExperimentChanged(slug, tx);
    });
    this.onChanged(slug);
  }

  private async change(
    slug: string,
    action: string,
    actor: Actor,
    expectedVersion: number | undefined,
    apply: (current: ExperimentRecord) => Outcome & { description?: string },
  ): Promise<ExperimentRecord> {
    const row = await this.repository.db.$transaction(async (tx) => {
      const stored = await this.repository.findExperiment(slug, tx);
      if (!stored) throw experimentNotFound(slug);
      if (expectedVersion !== undefined && stored.version !== expectedVersion) throw conflict(slug);
      const current = toRecord(stored);
      const outcome = apply(current);
      if (!outcome.ok)
        throw new ExperimentError(
          action === "update" || action === "rerandomize" ? "INVALID_CHANGE" : "INVALID_TRANSITION",
          outcome.reason,
        );
      const description = outcome.description ?? current.description;
      // The version in the WHERE clause makes a concurrent edit lose loudly instead of silently.
      const { count } = await tx.feature.updateMany({
        where: { slug, version: stored.version },
        data: {
          metadata: toExperimentMetadata(outcome.config),
          enabled: isEnabled(outcome.config),
          description,
          version: { increment: 1 },
        },
      });
      if (count !== 1) throw conflict(slug);
      await tx.auditLog.create({
        data: {
          ...actorFields(actor),
          action,
          experimentSlug: slug,
          before: snapshot(current.description, current.config),
          after: snapshot(description, outcome.config),
        },
      });
      await this.repository.notifyExperimentChanged(slug, tx);
      return this.repository.findExperiment(slug, tx);
    });
    this.onChanged(slug);
    if (!row) throw experimentNotFound(slug);
    return toRecord(row);
  }
}

function conflict(slug: string) {
  return new ExperimentError(
    "VERSION_CONFLICT",
    `Experiment "${slug}" was changed by someone else since you loaded it. Reload to see their change, then try again.`,
  );
}

function actorFields(actor: Actor) {
  return { actorId: actor.id ?? null, actorEmail: actor.email ?? null };
}

function snapshot(description: string, config: ExperimentConfig): Prisma.InputJsonObject {
  return { description, config: toExperimentMetadata(config) };
}

function storedSnapshot(stored: StoredExperiment): Prisma.InputJsonObject {
  return { description: stored.description, config: stored.metadata as Prisma.InputJsonValue };
}

export function toRecord(stored: StoredExperiment): ExperimentRecord {
  return {
    slug: stored.slug,
    description: stored.description,
    enabled: stored.enabled,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    config: parseExperimentConfig(stored.slug, stored.metadata),
  };
}
