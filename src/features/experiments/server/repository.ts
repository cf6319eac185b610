import { randomUUID } from "node:crypto";
import type { ExperimentScope } from "@/features/experiments/core/config";
import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { Coalescer } from "@/server/db/coalesce";
import { type SqlRunner, sqlFor } from "@/server/db/sql";
import {
  type AssignmentsQuery,
  belongsTo,
  columnsOf,
  findForSubjectsStatement,
  INSERT_ASSIGNMENTS,
  INSERT_EXPOSED_ASSIGNMENTS,
  type SubjectColumn,
} from "./assignment-statements";
import { type Subject, type SubjectIds, servingAssignment, subjectColumn } from "./subjects";

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
  firstExposedAt: Date | null;
};

export type NewAssignment = {
  experimentSlug: string;
  phase: number;
  variant: string;
  subject: Subject;
  assignmentType: "DETERMINISTIC" | "RANDOM";
  /** Shown as it is assigned (rendered on the server): its exposure is written with it. */
  exposure?: { idempotencyKey: string; properties: Record<string, unknown> };
};

/** The envelope of exposures written with their assignments. */
export type ExposureEnvelope = { consent: string; deliveryStatus: string; schemaVersion: number };

const experimentSelect = {
  slug: true,
  enabled: true,
  description: true,
  metadata: true,
  version: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** The channel on which instances tell each other that an experiment changed. */
export const EXPERIMENT_CHANGED_CHANNEL = "verdict_experiment_changed";

type Db = PrismaClient | Prisma.TransactionClient;

export class ExperimentRepository {
  private readonly sql: SqlRunner;
  /** Batched assignment reads, one per combination of id columns. */
  private readonly assignmentReads = new Map<string, Coalescer<AssignmentsQuery, StoredAssignment[]>>();
  /** Batched assignment inserts; a row that breaks a constraint fails only its own request. */
  private readonly assignmentInserts = new Coalescer(
    (batches: NewAssignment[][]) => this.insertBatch(batches),
    {
      isolateFailures: true,
    },
  );

  constructor(readonly db: PrismaClient) {
    this.sql = sqlFor(db);
  }

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

  /**
   * The subject's assignment in this phase, if any: the same shared read as a request's (below),
   * so single-experiment calls made together also go to the database as one statement.
   */
  async findAssignment(slug: string, phase: number, subject: Subject): Promise<StoredAssignment | null> {
    const rows = await this.findAssignmentsForSubjects({ [subjectColumn(subject.kind)]: subject.id }, [slug]);
    return servingAssignment(rows, slug, phase, subject) ?? null;
  }

  /**
   * Every assignment of the request's subjects, across experiments, in one query: the hot path of
   * every page view, a prepared statement on the per-subject indexes. The questions that requests
   * ask during one turn of the event loop go to the database together (see Coalescer).
   */
  findAssignmentsForSubjects(ids: SubjectIds, slugs: string[]): Promise<StoredAssignment[]> {
    const columns = columnsOf(ids);
    if (!columns.length || !slugs.length) return Promise.resolve([]);
    const key = columns.join();
    let coalescer = this.assignmentReads.get(key);
    if (!coalescer) {
      coalescer = new Coalescer((queries) => this.readAssignments(columns, queries));
      this.assignmentReads.set(key, coalescer);
    }
    return coalescer.run({ ids, slugs });
  }

  /** One statement for a batch of questions that carry the same id columns; each gets its rows. */
  private async readAssignments(
    columns: SubjectColumn[],
    queries: AssignmentsQuery[],
  ): Promise<StoredAssignment[][]> {
    const distinct = (values: string[]) => [...new Set(values)];
    const rows = await this.sql.query<StoredAssignment>(findForSubjectsStatement(columns), [
      distinct(queries.flatMap((query) => query.slugs)),
      ...columns.map((column) => distinct(queries.map((query) => query.ids[column] as string))),
    ]);
    if (queries.length === 1) return [rows];
    return queries.map((query) => rows.filter((row) => belongsTo(row, query, columns)));
  }

  /**
   * Inserts assignments that cannot duplicate (ON CONFLICT DO NOTHING on the per-phase unique
   * keys) and returns the rows this call inserted. A row missing from the result lost a race to a
   * concurrent request: the caller reads the winner back. One statement, no transaction; the
   * inserts that requests make during one turn of the event loop share it (each row's id, drawn
   * here, tells whose it is), except those that write exposures with their rows.
   */
  insertAssignments(rows: NewAssignment[], envelope?: ExposureEnvelope): Promise<StoredAssignment[]> {
    if (!rows.length) return Promise.resolve([]);
    if (envelope && rows.some((row) => row.exposure))
      return this.writeAssignments(
        rows,
        rows.map(() => randomUUID()),
        envelope,
      );
    return this.assignmentInserts.run(rows);
  }

  private async insertBatch(batches: NewAssignment[][]): Promise<StoredAssignment[][]> {
    const ids = batches.map((rows) => rows.map(() => randomUUID()));
    const inserted = await this.writeAssignments(batches.flat(), ids.flat());
    if (batches.length === 1) return [inserted];
    const byId = new Map(inserted.map((row) => [row.id, row]));
    return ids.map((batch) => batch.flatMap((id) => byId.get(id) ?? []));
  }

  private writeAssignments(
    rows: NewAssignment[],
    ids: string[],
    envelope?: ExposureEnvelope,
  ): Promise<StoredAssignment[]> {
    const subjectIds = (kind: NewAssignment["subject"]["kind"]) =>
      rows.map((row) => (row.subject.kind === kind ? row.subject.id : null));
    const exposures = rows.flatMap((row, index) =>
      row.exposure ? [{ id: ids[index], ...row.exposure }] : [],
    );
    const exposing = Boolean(envelope && exposures.length);
    return this.sql.query<StoredAssignment>(exposing ? INSERT_EXPOSED_ASSIGNMENTS : INSERT_ASSIGNMENTS, [
      ids,
      rows.map((row) => row.experimentSlug),
      rows.map((row) => row.phase),
      rows.map((row) => row.variant),
      rows.map((row) => row.assignmentType),
      subjectIds("user"),
      subjectIds("team"),
      subjectIds("visitor"),
      new Date(),
      ...(exposing && envelope
        ? [JSON.stringify(exposures), envelope.schemaVersion, envelope.consent, envelope.deliveryStatus]
        : []),
    ]);
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
