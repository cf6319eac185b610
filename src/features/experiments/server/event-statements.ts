import type { SqlStatement } from "@/server/db/sql";

/**
 * The event store's insert statements. Events that share an envelope travel as one JSON array:
 * the statement never changes with the batch size, and the driver encodes one string instead of
 * a value per column and row. Parameters: $1 the rows, $2 when they were received, then the
 * envelope ($3 userId … $10 deliveryStatus).
 */
/** Every column an event's insert sets, in this order (assignment-statements.ts's too). */
export const EVENT_INSERT_COLUMNS = `"id", "name", "occurredAt", "receivedAt", "nextAttemptAt", "userId", "teamId",
  "visitorId", "correlationId", "source", "schemaVersion", "consent", "deliveryStatus",
  "experimentSlug", "variant", "phase", "idempotencyKey", "properties"`;

const VALUES = `"id", "name", "occurredAt", $2::timestamp(3), $2::timestamp(3), $3::text, $4::text, $5::text, $6::text,
  $7::"EventSource", $8::int, $9::"ConsentState", $10::"DeliveryStatus",
  "experimentSlug", "variant", "phase", "idempotencyKey", "properties"`;

const ROW = `"id" uuid, "name" text, "occurredAt" timestamp(3), "experimentSlug" text, "variant" text,
  "phase" int, "idempotencyKey" text, "properties" jsonb`;

/** Conversions (and any event without a precondition); returns the keys it inserted. */
export const INSERT_EVENTS: SqlStatement = {
  name: "verdict_insert_events",
  text: `INSERT INTO "Event" (${EVENT_INSERT_COLUMNS})
    SELECT ${VALUES} FROM jsonb_to_recordset($1::jsonb) AS row(${ROW})
    ON CONFLICT DO NOTHING
    RETURNING "idempotencyKey"`,
};

/**
 * Exposures, each row naming its assignment (`assignmentId`): an exposure's event is written only
 * where this statement stamps the assignment's first exposure, so one subject yields one exposure
 * per experiment and phase. A concurrent request stamping the same assignment waits for this one
 * and then finds it stamped (PostgreSQL re-checks the condition on the updated row).
 */
export const EXPOSE_EVENTS: SqlStatement = {
  name: "verdict_expose_events",
  text: `WITH row AS (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS row("assignmentId" uuid, ${ROW})
    ), stamped AS (
      UPDATE "ExperimentVariant" AS a SET "firstExposedAt" = $2::timestamp(3)
      FROM row WHERE a."id" = row."assignmentId" AND a."firstExposedAt" IS NULL
      RETURNING a."id" AS "stampedId"
    )
    INSERT INTO "Event" (${EVENT_INSERT_COLUMNS})
    SELECT ${VALUES} FROM row JOIN stamped ON stamped."stampedId" = row."assignmentId"
    ON CONFLICT DO NOTHING
    RETURNING "idempotencyKey"`,
};
