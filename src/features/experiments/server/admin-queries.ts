import { DEFAULT_ANALYSIS, type ExperimentStatus } from "@/features/experiments/core/config";
import { EXPOSURE_EVENT } from "@/features/experiments/core/events";
import { experimentNotFound } from "./errors";
import { type ExperimentRecord, toRecord } from "./lifecycle-service";
import type { ExperimentRepository } from "./repository";
import { type Subject, subjectColumn } from "./subjects";

export type ExperimentSummary = ExperimentRecord & { participants: number; brokenConfig: string | null };

/**
 * What the admin console reads. Always from the database, never the serving cache: an admin must
 * see the state they are about to change (including its version).
 */
export class AdminQueries {
  constructor(private readonly repository: ExperimentRepository) {}

  async list(filter: { status?: ExperimentStatus; search?: string } = {}): Promise<ExperimentSummary[]> {
    const [rows, participants] = await Promise.all([
      this.repository.listExperiments(),
      this.repository.countParticipants(),
    ]);
    const search = filter.search?.toLowerCase();
    const summaries: ExperimentSummary[] = [];
    for (const row of rows.reverse()) {
      let record: ExperimentRecord;
      try {
        record = toRecord(row);
      } catch (error) {
        // A broken configuration is listed (so an admin can find and fix it), not hidden.
        summaries.push({ ...brokenRecord(row), participants: 0, brokenConfig: (error as Error).message });
        continue;
      }
      if (filter.status && record.config.status !== filter.status) continue;
      if (search && !`${record.slug} ${record.description}`.toLowerCase().includes(search)) continue;
      const count =
        participants.find((entry) => entry.slug === record.slug && entry.phase === record.config.phase)
          ?.count ?? 0;
      summaries.push({ ...record, participants: count, brokenConfig: null });
    }
    return filter.status ? summaries.filter((summary) => !summary.brokenConfig) : summaries;
  }

  async get(slug: string): Promise<ExperimentRecord> {
    const row = await this.repository.findExperiment(slug);
    if (!row) throw experimentNotFound(slug);
    return toRecord(row);
  }

  /** Assignments and exposures per variant, with every configured variant present (zeros included). */
  async stats(slug: string, phase?: number) {
    const experiment = await this.get(slug);
    const selectedPhase = phase ?? experiment.config.phase;
    const counts = await this.repository.countAssignmentsByVariant(slug, selectedPhase);
    const names = [
      ...new Set([
        ...experiment.config.variants.map((variant) => variant.name),
        ...counts.map((c) => c.variant),
      ]),
    ];
    const variants = names.map((name) => {
      const found = counts.find((count) => count.variant === name);
      return { variant: name, assignments: found?.assignments ?? 0, exposed: found?.exposed ?? 0 };
    });
    return {
      slug,
      phase: selectedPhase,
      total: variants.reduce((sum, variant) => sum + variant.assignments, 0),
      variants,
    };
  }

  /** Whether a new experiment may take `slug`: flags and experiments share one namespace of slugs. */
  async slugAvailable(slug: string): Promise<boolean> {
    const taken = await this.repository.db.feature.findUnique({ where: { slug }, select: { slug: true } });
    return !taken;
  }

  /** Feature flags that could become experiments (the flag-conversion helper). */
  listFlags() {
    return this.repository.db.feature.findMany({
      where: { type: "FLAG" },
      orderBy: { slug: "asc" },
      select: {
        slug: true,
        description: true,
        enabled: true,
        _count: { select: { userStates: true, teamStates: true } },
      },
    });
  }

  auditLog(slug: string, limit: number, before?: Date) {
    return this.repository.auditLog(slug, limit, before);
  }

  /** Every assignment of a subject, with how many exposure events were recorded for each. */
  async subjectAssignments(subject: Subject) {
    const column = subjectColumn(subject.kind);
    const [assignments, exposures] = await Promise.all([
      this.repository.assignmentsOfSubject(subject),
      this.repository.db.event.groupBy({
        by: ["experimentSlug", "phase"],
        where: { name: EXPOSURE_EVENT, [column]: subject.id },
        _count: { _all: true },
      }),
    ]);
    return assignments.map((assignment) => ({
      ...assignment,
      exposureEvents:
        exposures.find(
          (group) => group.experimentSlug === assignment.experimentSlug && group.phase === assignment.phase,
        )?._count._all ?? 0,
    }));
  }
}

function brokenRecord(row: Parameters<typeof toRecord>[0]): ExperimentRecord {
  return {
    slug: row.slug,
    description: row.description,
    enabled: row.enabled,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    config: {
      schemaVersion: 1,
      variants: [],
      assignmentType: "deterministic",
      scope: "visitor",
      status: "draft",
      startedAt: null,
      pausedAt: null,
      endedAt: null,
      winnerVariant: null,
      targetingRules: {},
      trafficPercent: 0,
      hashing: "growthbook-v2",
      namespace: null,
      phase: 1,
      setPersonProperty: false,
      conversionEvents: [],
      allowForcedVariants: false,
      analysis: DEFAULT_ANALYSIS,
    },
  };
}
