import type { PrismaClient } from "@/generated/prisma/client";
import { type SqlRunner, type SqlStatement, sqlFor } from "../db/sql";

/** One event as the dispatcher hands it to destinations. */
export type OutboxEvent = {
  id: string;
  name: string;
  occurredAt: Date;
  userId: string | null;
  teamId: string | null;
  visitorId: string | null;
  experimentSlug: string | null;
  variant: string | null;
  phase: number | null;
  properties: Record<string, unknown>;
  correlationId: string | null;
  source: string;
  schemaVersion: number;
  idempotencyKey: string;
  consent: string;
  attempts: number;
};

type Row = Omit<OutboxEvent, "properties"> & { properties: unknown };

/**
 * Takes the due events in (nextAttemptAt, occurredAt) order, which the outbox index hands over
 * directly: a claim reads one batch of entries however long the backlog is.
 */
const CLAIM: SqlStatement = {
  name: "verdict_outbox_claim",
  text: `UPDATE "Event" SET "attempts" = "attempts" + 1, "nextAttemptAt" = $1::timestamp(3)
    WHERE "id" IN (
      SELECT "id" FROM "Event"
      WHERE "deliveryStatus" = 'PENDING' AND "nextAttemptAt" <= $2::timestamp(3)
      ORDER BY "nextAttemptAt", "occurredAt"
      LIMIT $3
      FOR UPDATE SKIP LOCKED
    )
    RETURNING "id", "name", "occurredAt", "userId", "teamId", "visitorId", "experimentSlug", "variant",
      "phase", "properties", "correlationId", "source"::text AS "source", "schemaVersion",
      "idempotencyKey", "consent"::text AS "consent", "attempts"`,
};

/**
 * Only still-pending rows (a dispatcher whose lease ran out must not undo a successor's work). The
 * status is compared as text so the planner can only find the rows by primary key: statistics
 * taken while the outbox was empty make the status index look cheaper, and it would then walk the
 * whole backlog for every batch.
 */
const MARK_DELIVERED: SqlStatement = {
  name: "verdict_outbox_delivered",
  text: `UPDATE "Event" SET "deliveryStatus" = 'DELIVERED', "deliveredAt" = $2::timestamp(3), "lastError" = NULL
    WHERE "id" = ANY($1::uuid[]) AND "deliveryStatus"::text = 'PENDING'`,
};

/**
 * The outbox's storage operations, in SQL where Prisma has no words for them. Claiming takes a
 * lease: the rows are locked with SKIP LOCKED (so concurrent dispatchers never take the same
 * event), their attempt count goes up and they become due again only when the lease runs out, so
 * a dispatcher that dies mid-delivery leaves them to the next one.
 */
export class OutboxStore {
  private readonly sql: SqlRunner;

  constructor(private readonly db: PrismaClient) {
    this.sql = sqlFor(db);
  }

  async claim(limit: number, now: Date, leaseMs: number): Promise<OutboxEvent[]> {
    const rows = await this.sql.query<Row>(CLAIM, [new Date(now.getTime() + leaseMs), now, limit]);
    // In place: a batch is a thousand rows, fresh from the driver.
    for (const row of rows) row.properties ??= {};
    return (rows as OutboxEvent[]).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  }

  /** One statement whatever the batch size (the ids are one array parameter). */
  async markDelivered(ids: string[], at: Date): Promise<void> {
    if (!ids.length) return;
    await this.sql.query(MARK_DELIVERED, [ids, at]);
  }

  async markFailed(failures: { id: string; dead: boolean; retryAt: Date }[], error: string): Promise<void> {
    const message = error.slice(0, 1000);
    // Only still-pending rows: a dispatcher whose lease ran out must not undo a successor's work.
    await this.db.$transaction(
      failures.map((failure) =>
        this.db.event.updateMany({
          where: { id: failure.id, deliveryStatus: "PENDING" },
          data: failure.dead
            ? { deliveryStatus: "DEAD", lastError: message }
            : { nextAttemptAt: failure.retryAt, lastError: message },
        }),
      ),
    );
  }

  /** Admin re-drive: dead events become due again, with a fresh attempt budget. */
  async redrive(ids: string[] | "all", now: Date): Promise<number> {
    const result = await this.db.event.updateMany({
      where: { deliveryStatus: "DEAD", ...(ids === "all" ? {} : { id: { in: ids } }) },
      data: { deliveryStatus: "PENDING", attempts: 0, nextAttemptAt: now, lastError: null },
    });
    return result.count;
  }

  /** Counts per delivery status: what the admin's delivery panel shows. */
  async statusCounts(): Promise<Record<string, number>> {
    const groups = await this.db.event.groupBy({ by: ["deliveryStatus"], _count: { _all: true } });
    return Object.fromEntries(groups.map((group) => [group.deliveryStatus, group._count._all]));
  }
}
