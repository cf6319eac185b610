import type { SqlStatement } from "@/server/db/sql";
import { EVENT_INSERT_COLUMNS } from "./event-statements";
import type { StoredAssignment } from "./repository";
import type { SubjectIds } from "./subjects";

/**
 * The assignment hot path's statements, written by hand (prepared on PostgreSQL, see
 * server/db/sql.ts), and how a batch of requests' questions maps onto them and back.
 */

/** The repository's `assignmentSelect` in SQL. */
const ASSIGNMENT_COLUMNS = `"id", "experimentSlug", "assignmentType"::text AS "assignmentType", "phase", "variant", "userId", "teamId", "visitorId", "assignedAt", "firstExposedAt"`;

export const SUBJECT_COLUMNS = ["userId", "teamId", "visitorId"] as const;
export type SubjectColumn = (typeof SUBJECT_COLUMNS)[number];

/** One request's question: its assignments in these experiments, by the ids it carries. */
export type AssignmentsQuery = { ids: SubjectIds; slugs: string[] };

/**
 * The assignments of several requests' subjects: one statement per combination of ids they carry,
 * each id column matched against all of the batch's ids of that kind (the per-subject indexes
 * take an array of keys).
 */
const findForSubjects = new Map<string, SqlStatement>();
export function findForSubjectsStatement(columns: SubjectColumn[]): SqlStatement {
  const key = columns.map((column) => column[0]).join("");
  let statement = findForSubjects.get(key);
  if (!statement) {
    const matches = columns.map((column, index) => `"${column}" = ANY($${index + 2}::text[])`).join(" OR ");
    statement = {
      name: `verdict_assignments_of_${key}`,
      text: `SELECT ${ASSIGNMENT_COLUMNS} FROM "ExperimentVariant" WHERE "experimentSlug" = ANY($1::text[]) AND (${matches})`,
    };
    findForSubjects.set(key, statement);
  }
  return statement;
}

/** The id columns a request carries, in SUBJECT_COLUMNS' order. */
export function columnsOf(ids: SubjectIds): SubjectColumn[] {
  return SUBJECT_COLUMNS.filter((column) => Boolean(ids[column]));
}

/** A row is one request's when it is in one of its experiments and under one of its ids. */
export function belongsTo(row: StoredAssignment, query: AssignmentsQuery, columns: SubjectColumn[]): boolean {
  return (
    query.slugs.includes(row.experimentSlug) && columns.some((column) => row[column] === query.ids[column])
  );
}

/** New assignments as parallel arrays: one statement, however many rows. */
export const INSERT_ASSIGNMENTS: SqlStatement = {
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
export const INSERT_EXPOSED_ASSIGNMENTS: SqlStatement = {
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
      INSERT INTO "Event" (${EVENT_INSERT_COLUMNS})
      SELECT gen_random_uuid(), 'experiment_viewed', $9::timestamp(3), $9::timestamp(3), $9::timestamp(3),
        inserted."userId", inserted."teamId", inserted."visitorId", NULL, 'SERVER'::"EventSource", $11::int,
        $12::"ConsentState", $13::"DeliveryStatus", inserted."experimentSlug", inserted."variant", inserted."phase",
        exposure."idempotencyKey", exposure."properties"
      FROM inserted JOIN exposure ON exposure."id" = inserted."id"
      ON CONFLICT DO NOTHING
    )
    SELECT * FROM inserted`,
};
