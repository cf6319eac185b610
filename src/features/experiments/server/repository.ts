import type { ExperimentScope } from "@/features/experiments/core/config";
import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { type Subject, type SubjectIds, subjectColumn } from "./subjects";

/** The only module of the feature that talks to Prisma. Returns narrow, selected shapes. */

export type StoredExperiment = {
  slug: string;
  enabled: boolean;
  description: string;
  metadata: unknown;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

export type StoredAssignment = {
  id: string;
  experimentSlug: string;
  assignmentType: "DETERMINISTIC" | "RANDOM";
  phase: number;
  variant: string;
  userId: string | null;
  teamId: string | null;
  visitorId: string | null;
  assignedAt: Date;
};

export type NewAssignment = {
  experimentSlug: string;
  phase: number;
  variant: string;
  subject: Subject;
  assignmentType: "DETERMINISTIC" | "RANDOM";
};

const experimentSelect = {
  slug: true,
  enabled: true,
  description: true,
  metadata: true,
  version: true,
  createdAt: true,
  updatedAt: true,
} as const;

const assignmentSelect = {
  id: true,
  experimentSlug: true,
  assignmentType: true,
  phase: true,
  variant: true,
  userId: true,
  teamId: true,
  visitorId: true,
  assignedAt: true,
} as const;

/** The channel on which instances tell each other that an experiment changed. */
export const EXPERIMENT_CHANGED_CHANNEL = "verdict_experiment_changed";

type Db = PrismaClient | Prisma.TransactionClient;

export class ExperimentRepository {
  constructor(readonly db: PrismaClient) {}

  listExperiments(): Promise<StoredExperiment[]> {
    return this.db.feature.findMany({
      where: { type: "EXPERIMENT" },
      select: experimentSelect,
      orderBy: { createdAt: "asc" },
    });
  }

  findExperiment(slug: string, db: Db = this.db): Promise<StoredExperiment | null> {
    return db.feature.findFirst({ where: { slug, type: "EXPERIMENT" }, select: experimentSelect });
  }

  /** One indexed read: the subject's assignment in this phase, if any. */
  findAssignment(slug: string, phase: number, subject: Subject): Promise<StoredAssignment | null> {
    return this.db.experimentVariant.findFirst({
      where: { experimentSlug: slug, phase, [subjectColumn(subject.kind)]: subject.id },
      select: assignmentSelect,
    });
  }

  /** Every assignment of the request's subjects, across experiments, in one query. */
  findAssignmentsForSubjects(ids: SubjectIds, slugs: string[]): Promise<StoredAssignment[]> {
    const or: Prisma.ExperimentVariantWhereInput[] = [];
    if (ids.userId) or.push({ userId: ids.userId });
    if (ids.teamId) or.push({ teamId: ids.teamId });
    if (ids.visitorId) or.push({ visitorId: ids.visitorId });
    if (!or.length || !slugs.length) return Promise.resolve([]);
    return this.db.experimentVariant.findMany({
      where: { experimentSlug: { in: slugs }, OR: or },
      select: assignmentSelect,
    });
  }

  /**
   * Inserts assignments that cannot duplicate (ON CONFLICT DO NOTHING on the per-phase unique
   * keys) and returns the rows this call inserted. A row missing from the result lost a race to a
   * concurrent request: the caller reads the winner back.
   */
  insertAssignments(rows: NewAssignment[]): Promise<StoredAssignment[]> {
    if (!rows.length) return Promise.resolve([]);
    return this.db.experimentVariant.createManyAndReturn({
      data: rows.map((row) => ({
        experimentSlug: row.experimentSlug,
        phase: row.phase,
        variant: row.variant,
        assignmentType: row.assignmentType,
        [subjectColumn(row.subject.kind)]: row.subject.id,
      })),
      skipDuplicates: true,
      select: assignmentSelect,
    });
  }

  /** Assignments and first exposures per variant in one phase (one grouped, indexed scan). */
  async countAssignmentsByVariant(
    slug: string,
    phase: number,
  ): Promise<{ variant: string; assignments: number; exposed: number }[]> {
    const groups = await this.db.experimentVariant.groupBy({
      by: ["variant"],
      // Carried-over rows copy a visitor's assignment to their user: one person, counted once.
      where: { experimentSlug: slug, phase, origin: { not: "VISITOR_CARRYOVER" } },
      _count: { _all: true, firstExposedAt: true },
    });
    return groups.map((group) => ({
      variant: group.variant,
      assignments: group._count._all,
      exposed: group._count.firstExposedAt,
    }));
  }

  /** Participants of every experiment, per phase. */
  async countParticipants(): Promise<{ slug: string; phase: number; count: number }[]> {
    const groups = await this.db.experimentVariant.groupBy({
      by: ["experimentSlug", "phase"],
      where: { origin: { not: "VISITOR_CARRYOVER" } },
      _count: { _all: true },
    });
    return groups.map((group) => ({
      slug: group.experimentSlug,
      phase: group.phase,
      count: group._count._all,
    }));
  }

  auditLog(slug: string, limit: number, before?: Date) {
    return this.db.auditLog.findMany({
      where: { experimentSlug: slug, ...(before ? { at: { lt: before } } : {}) },
      orderBy: { at: "desc" },
      take: limit,
      select: {
        id: true,
        actorEmail: true,
        actorId: true,
        action: true,
        before: true,
        after: true,
        at: true,
      },
    });
  }

  /** Every assignment of one subject, newest first: "what did this customer see?" */
  assignmentsOfSubject(subject: Subject) {
    return this.db.experimentVariant.findMany({
      where: { [subjectColumn(subject.kind)]: subject.id },
      orderBy: { assignedAt: "desc" },
      select: {
        experimentSlug: true,
        phase: true,
        variant: true,
        assignmentType: true,
        origin: true,
        assignedAt: true,
        firstExposedAt: true,
      },
    });
  }

  /** The team, when `userId` is a member of it: what targeting may know about a team subject. */
  findTeamOfMember(
    teamId: string,
    userId: string,
  ): Promise<{ id: string; plan: string; organizationId: string | null } | null> {
    return this.db.team.findFirst({
      where: { id: teamId, memberships: { some: { userId } } },
      select: { id: true, plan: true, organizationId: true },
    });
  }

  /** Tells every instance (including this one's listener) that `slug` changed, on commit. */
  async notifyExperimentChanged(slug: string, db: Db = this.db): Promise<void> {
    await db.$executeRaw`select pg_notify(${EXPERIMENT_CHANGED_CHANNEL}, ${slug})`;
  }
}

export function scopeOfAssignment(row: StoredAssignment): ExperimentScope {
  return row.userId ? "user" : row.teamId ? "team" : "visitor";
}
