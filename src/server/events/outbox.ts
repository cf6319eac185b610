import type { PrismaClient } from "@/generated/prisma/client";
import { type SqlParameter, type SqlRunner, type SqlStatement, sqlFor } from "../db/sql";

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

/** What a destination receives of an event, besides its attempt number. */
const EVENT_COLUMNS = `"id", "name", "occurredAt", "userId", "teamId", "visitorId", "experimentSlug", "variant",
  "phase", "properties", "correlationId", "source"::text AS "source", "schemaVersion", "idempotencyKey",
  "consent"::text AS "consent"`;

/**
 * The due events, oldest schedule first, which the outbox index (pending events only) hands over
 * in that order: a claim reads one batch of entries however long the backlog is.
 */
const DUE_NOW = `"Event" WHERE "deliveryStatus" = 'PENDING' AND "nextAttemptAt" <= $1::timestamp(3)`;
const DUE = `FROM ${DUE_NOW} ORDER BY "nextAttemptAt", "occurredAt" LIMIT $2`;

/**
 * PostgreSQL: the batch stays locked by the dispatcher's open transaction, and nothing is written
 * until it is settled. The attempt is counted as it is settled.
 */
const LOCK: SqlStatement = {
  name: "verdict_outbox_lock",
  text: `SELECT ${EVENT_COLUMNS}, "attempts" + 1 AS "attempts" ${DUE} FOR UPDATE SKIP LOCKED`,
};

/**
 * An embedded database (one connection, so no transaction may stay open): the claim writes a
 * lease instead. The events become due again when it runs out, and the attempt is counted now.
 */
const LEASE: SqlStatement = {
  name: "verdict_outbox_lease",
  text: `UPDATE "Event" SET "attempts" = "attempts" + 1, "nextAttemptAt" = $3::timestamp(3)
    WHERE "id" IN (SELECT "id" ${DUE} FOR UPDATE SKIP LOCKED)
    RETURNING ${EVENT_COLUMNS}, "attempts"`,
};

/**
 * Whether anything is due, outside a transaction: an idle dispatcher on PostgreSQL looks with this
 * one statement (the outbox index's first entry) before it opens a transaction to lock a batch.
 */
const ANY_DUE: SqlStatement = {
  name: "verdict_outbox_any_due",
  text: `SELECT EXISTS (SELECT 1 FROM ${DUE_NOW}) AS "due"`,
};

/**
 * Only still-pending rows (a dispatcher whose lease ran out must not undo a successor's work). The
 * status is compared as text so the planner can only find the rows by primary key.
 */
const MARK_DELIVERED: SqlStatement = {
  name: "verdict_outbox_delivered",
  text: `UPDATE "Event" SET "deliveryStatus" = 'DELIVERED', "deliveredAt" = $2::timestamp(3), "lastError" = NULL,
      "attempts" = "attempts" + $3::int
    WHERE "id" = ANY($1::uuid[]) AND "deliveryStatus"::text = 'PENDING'`,
};

/** Failed events, each rescheduled for its retry or given up on (DEAD), in one statement. */
const MARK_FAILED: SqlStatement = {
  name: "verdict_outbox_failed",
  text: `UPDATE "Event" AS e SET
      "deliveryStatus" = CASE WHEN f."dead" THEN 'DEAD'::"DeliveryStatus" ELSE e."deliveryStatus" END,
      "nextAttemptAt" = CASE WHEN f."dead" THEN e."nextAttemptAt" ELSE f."retryAt" END,
      "lastError" = $4, "attempts" = e."attempts" + $5::int
    FROM unnest($1::uuid[], $2::boolean[], $3::timestamp(3)[]) AS f("id", "dead", "retryAt")
    WHERE e."id" = f."id" AND e."deliveryStatus"::text = 'PENDING'`,
};

export type DeliveryFailure = { id: string; dead: boolean; retryAt: Date };

/** How a claimed batch ended, written in the claim's transaction where it has one. */
export interface BatchSettlement {
  delivered(ids: string[], at: Date): Promise<void>;
  failed(failures: DeliveryFailure[], error: string): Promise<void>;
}

/**
 * The outbox's storage operations, in SQL where Prisma has no words for them. Concurrent
 * dispatchers never take the same event (SKIP LOCKED), and one that dies mid-delivery leaves its
 * batch to the others. On PostgreSQL the batch is locked by a transaction that lasts as long as
 * the delivery: a dead dispatcher's batch is free the moment its connection closes, and an event
 * is written once on its way out (its settlement). On an embedded database the claim writes a
 * lease instead, and a dead dispatcher's batch waits for the lease to run out.
 */
export class OutboxStore {
  private readonly sql: SqlRunner;
  /** The last claim came back short: the outbox was drained, so look before locking. */
  private drained = true;

  constructor(private readonly db: PrismaClient) {
    this.sql = sqlFor(db);
  }

  /** Claims up to `limit` due events, oldest first, for `handle` to deliver and settle. */
  async withBatch<R>(
    limit: number,
    now: Date,
    leaseMs: number,
    handle: (batch: OutboxEvent[], settle: BatchSettlement) => Promise<R>,
  ): Promise<R> {
    if (this.sql.transaction) {
      if (this.drained && !(await this.anyDue(now))) return handle([], settlement(this.sql, 1));
      return this.sql.transaction(async (sql) => {
        const batch = await claimed(sql, LOCK, [now, limit]);
        this.drained = batch.length < limit;
        return handle(batch, settlement(sql, 1));
      });
    }
    const batch = await claimed(this.sql, LEASE, [now, limit, new Date(now.getTime() + leaseMs)]);
    return handle(batch, settlement(this.sql, 0));
  }

  private async anyDue(now: Date): Promise<boolean> {
    const [row] = await this.sql.query<{ due: boolean }>(ANY_DUE, [now]);
    return Boolean(row?.due);
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

  /** The delivery panel's contents: the counts, and the newest dead letters to re-drive. */
  async overview(deadLetters = 50) {
    const [counts, dead] = await Promise.all([
      this.statusCounts(),
      this.db.event.findMany({
        where: { deliveryStatus: "DEAD" },
        orderBy: { occurredAt: "desc" },
        take: deadLetters,
        select: {
          id: true,
          name: true,
          experimentSlug: true,
          occurredAt: true,
          attempts: true,
          lastError: true,
        },
      }),
    ]);
    return { counts, dead };
  }
}

async function claimed(
  sql: SqlRunner,
  statement: SqlStatement,
  values: SqlParameter[],
): Promise<OutboxEvent[]> {
  const rows = await sql.query<Row>(statement, values);
  // In place: a batch is a thousand rows, fresh from the driver.
  for (const row of rows) row.properties ??= {};
  return (rows as OutboxEvent[]).sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
}

/** `uncounted`: 1 where the claim left the attempt to be counted here (a lock), 0 for a lease. */
function settlement(sql: SqlRunner, uncounted: 0 | 1): BatchSettlement {
  return {
    async delivered(ids, at) {
      if (ids.length) await sql.query(MARK_DELIVERED, [ids, at, uncounted]);
    },
    async failed(failures, error) {
      if (!failures.length) return;
      await sql.query(MARK_FAILED, [
        failures.map((failure) => failure.id),
        failures.map((failure) => failure.dead),
        failures.map((failure) => failure.retryAt.toISOString()),
        error.slice(0, 1000),
        uncounted,
      ]);
    },
  };
}
