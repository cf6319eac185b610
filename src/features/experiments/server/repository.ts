import { randomUUID } from "node:crypto";
import type { ExperimentScope } from "@/features/experiments/core/config";
import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { type SqlRunner, type SqlStatement, sqlFor } from "@/server/db/sql";
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
  firstExposedAt: true,
} as const;

/** `assignmentSelect` in SQL, for the hot-path statements written by hand. */
const ASSIGNMENT_COLUMNS = `"id", "experimentSlug", "assignmentType"::text AS "assignmentType", "phase", "variant", "userId", "teamId", "visitorId", "assignedAt", "firstExposedAt"`;

/** The request's assignments: one statement per combination of ids it carries. */
const findForSubjects = new Map<string, SqlStatement>();
function findForSubjectsStatement(columns: ("userId" | "teamId" | "visitorId")[]): SqlStatement {
  const key = columns.map((column) => column[0]).join("");
  let statement = findForSubjects.get(key);
  if (!statement) {
    const matches = columns.map((column, index) => `"${column}" = $${index + 2}`).join(" OR ");
    statement = {
      name: `verdict_assignments_of_${key}`,
      text: `SELECT ${ASSIGNMENT_COLUMNS} FROM "ExperimentVariant" WHERE "experimentSlug" = ANY($1::text[]) AND (${matches})`,
    };
    findForSubjects.set(key, statement);
  }
  return statement;
}

/** New assignments as parallel arrays: one statement, however many rows. */
const INSERT_ASSIGNMENTS: SqlStatement = {
  name: "verdict_insert_assignments",
  text: `INSERT INTO "ExperimentVariant"
      ("id", "experimentSlug", "phase", "variant", "assignmentType", "userId", "teamId", "visitorId", "assignedAt")
    SELECT "id", "experimentSlug", "phase", "variant", "assignmentType"::"AssignmentType", "userId", "teamId", "visitorId", $9::timestamp(3)
    FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
      AS row("id", "experimentSlug", "phase", "variant", "assignmentType", "userId", "teamId", "visitorId")
    ON CONFLICT DO NOTHING
    RETURNING ${ASSIGNMENT_COLUMNS}`,
};

/**
 * New assignments of which some are exposed as they are made: those rows get `firstExposedAt`,
 * and their `experiment_viewed` events are inserted by the same statement, so the assignment and
 * its exposure are committed together or not at all (and a lost race writes neither).
 */
const INSERT_EXPOSED_ASSIGNMENTS: SqlStatement = {
  name: "verdict_insert_exposed_assignments",
  text: `WITH exposure AS (
      SELECT * FROM jsonb_to_recordset($10::jsonb) AS exposure("id" uuid, "idempotencyKey" text, "properties" jsonb)
    ), inserted AS (
      INSERT INTO "ExperimentVariant"
        ("id", "experimentSlug", "phase", "variant", "assignmentType", "userId", "teamId", "visitorId", "assignedAt", "firstExposedAt")
      SELECT row."id", row."experimentSlug", row."phase", row."variant", row."assignmentType"::"AssignmentType",
        row."userId", row."teamId", row."visitorId", $9::timestamp(3),
        CASE WHEN exposure."id" IS NULL THEN NULL ELSE $9::timestamp(3) END
      FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
        AS row("id", "experimentSlug", "phase", "variant", "assignmentType", "userId", "teamId", "visitorId")
        LEFT JOIN exposure ON exposure."id" = row."id"
      ON CONFLICT DO NOTHING
      RETURNING ${ASSIGNMENT_COLUMNS}
    ), exposed AS (
      INSERT INTO "Event" ("id", "name", "occurredAt", "receivedAt", "nextAttemptAt", "userId", "teamId",
        "visitorId", "source", "schemaVersion", "consent", "deliveryStatus", "experimentSlug", "variant", "phase",
        "idempotencyKey", "properties")
      SELECT gen_random_uuid(), 'experiment_viewed', $9::timestamp(3), $9::timestamp(3), $9::timestamp(3),
        inserted."userId", inserted."teamId", inserted."visitorId", 'SERVER'::"EventSource", $11::int,
        $12::"ConsentState", $13::"DeliveryStatus", inserted."experimentSlug", inserted."variant", inserted."phase",
        exposure."idempotencyKey", exposure."properties"
      FROM inserted JOIN exposure ON exposure."id" = inserted."id"
      ON CONFLICT DO NOTHING
    )
    SELECT * FROM inserted`,
};

/** The channel on which instances tell each other that an experiment changed. */
export const EXPERIMENT_CHANGED_CHANNEL = "verdict_experiment_changed";

type Db = PrismaClient | Prisma.TransactionClient;

export class ExperimentRepository {
  private readonly sql: SqlRunner;

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

  /** One indexed read: the subject's assignment in this phase, if any. */
  findAssignment(slug: string, phase: number, subject: Subject): Promise<StoredAssignment | null> {
    return this.db.experimentVariant.findFirst({
      where: { experimentSlug: slug, phase, [subjectColumn(subject.kind)]: subject.id },
      select: assignmentSelect,
    });
  }

  /**
   * Every assignment of the request's subjects, across experiments, in one query: the hot path of
   * every page view, a prepared statement on the per-subject indexes.
   */
  findAssignmentsForSubjects(ids: SubjectIds, slugs: string[]): Promise<StoredAssignment[]> {
    const columns: ("userId" | "teamId" | "visitorId")[] = [];
    const values: string[] = [];
    for (const column of ["userId", "teamId", "visitorId"] as const) {
      const id = ids[column];
      if (id) {
        columns.push(column);
        values.push(id);
      }
    }
    if (!columns.length || !slugs.length) return Promise.resolve([]);
    return this.sql.query<StoredAssignment>(findForSubjectsStatement(columns), [slugs, ...values]);
  }

  /**
   * Inserts assignments that cannot duplicate (ON CONFLICT DO NOTHING on the per-phase unique
   * keys) and returns the rows this call inserted. A row missing from the result lost a race to a
   * concurrent request: the caller reads the winner back. One statement, no transaction.
   */
  insertAssignments(rows: NewAssignment[], envelope?: ExposureEnvelope): Promise<StoredAssignment[]> {
    if (!rows.length) return Promise.resolve([]);
    const subjectIds = (kind: NewAssignment["subject"]["kind"]) =>
      rows.map((row) => (row.subject.kind === kind ? row.subject.id : null));
    const ids = rows.map(() => randomUUID());
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
