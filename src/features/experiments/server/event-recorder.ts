import { randomUUID } from "node:crypto";
import {
  type ConsentState,
  EVENT_SCHEMA_VERSION,
  EXPOSURE_EVENT,
  exposureRecord,
  storedConsent,
  type TrackedEvent,
} from "@/features/experiments/core/events";
import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { type SqlRunner, type SqlStatement, sqlFor } from "@/server/db/sql";
import type { ExperimentCatalog } from "./catalog";
import {
  type ConversionInput,
  type ConversionRow,
  conversionRow,
  type ExposureRow,
  type Found,
  matchAssignment,
  subjectOf,
} from "./event-rows";
import { EXPOSE_EVENTS, INSERT_EVENTS } from "./event-statements";
import type { ExperimentRepository, StoredAssignment } from "./repository";
import { type SubjectIds, subjectFor } from "./subjects";

export type RecordOutcome =
  | "recorded"
  | "duplicate"
  | "not-enrolled"
  | "variant-mismatch"
  | "not-a-conversion-event"
  | "unknown-experiment";

type Source = "SERVER" | "BROWSER" | "WEBHOOK";
type Common = {
  ids: SubjectIds;
  source: Source;
  consent: ConsentState;
  occurredAt?: Date;
  correlationId?: string;
};

/**
 * Records exposures and conversions in the event table (the outbox the dispatcher delivers from).
 * An exposure is deduplicated against the assignment itself: the first one stamps
 * `firstExposedAt` on the row and writes the event, in one statement (EXPOSE_EVENTS), so one
 * subject yields one exposure per experiment and phase however many tabs, reloads or retries
 * send it.
 */
export class EventRecorder {
  private readonly sql: SqlRunner;

  constructor(
    private readonly repository: ExperimentRepository,
    private readonly catalog: ExperimentCatalog,
  ) {
    this.sql = sqlFor(repository.db);
  }

  private get db(): PrismaClient {
    return this.repository.db;
  }

  async recordExposure(input: Common & { slug: string; variant: string }): Promise<RecordOutcome> {
    const found = await this.assignmentOf(input.slug, input.ids);
    if (found === "unknown-experiment") return found;
    if (!found) return "not-enrolled";
    return this.exposeAssignment(input, found);
  }

  /**
   * recordExposure for an assignment the caller has just read (the server-rendered path reads the
   * request's assignments to serve them): no second read, and none at all once it is exposed.
   */
  async recordExposureOf(
    input: Common & { slug: string; variant: string },
    row: StoredAssignment,
  ): Promise<RecordOutcome> {
    const experiment = (await this.catalog.getSnapshot()).experiments.get(input.slug);
    if (!experiment) return "unknown-experiment";
    return this.exposeAssignment(input, { row, experiment: experiment.config });
  }

  /** Stamps the first exposure on the assignment and writes its event, once per subject and phase. */
  private async exposeAssignment(
    input: Common & { slug: string; variant: string },
    found: Found,
  ): Promise<RecordOutcome> {
    const exposure = await this.exposureRow(input, found);
    if (typeof exposure === "string") return exposure;
    const inserted = await this.insertEvents(EXPOSE_EVENTS, this.envelope(input, new Date()), [exposure]);
    return inserted.has(exposure.idempotencyKey) ? "recorded" : "duplicate";
  }

  /** The exposure's event, or the outcome that needs none. */
  private async exposureRow(
    input: { slug: string; variant: string; occurredAt?: Date },
    { row, experiment }: Found,
  ): Promise<ExposureRow | RecordOutcome> {
    if (row.variant !== input.variant) {
      // Shown a variant other than the one assigned (a stale cache, a forced preview leaking):
      // flag the assignment for analysis; the exposure still counts once, for the assigned variant.
      // Added to what the row's metadata already says (a carried-over assignment's origin).
      await this.db.$executeRaw`update "ExperimentVariant"
        set "metadata" = (case when jsonb_typeof("metadata") = 'object' then "metadata" else '{}'::jsonb end)
          || jsonb_build_object('seenInOtherVariant', ${input.variant}::text, 'flaggedAt', ${new Date().toISOString()}::text)
        where "id" = ${row.id}::uuid`;
      return "variant-mismatch";
    }
    // Exposed already, as the row just read says: the stamp would match nothing.
    if (row.firstExposedAt) return "duplicate";
    const exposure = exposureRecord({
      slug: input.slug,
      phase: row.phase,
      variant: row.variant,
      assignmentType: row.assignmentType,
      subjectKey: subjectOf(row),
      setPersonProperty: experiment.setPersonProperty,
    });
    return {
      assignmentId: row.id,
      name: EXPOSURE_EVENT,
      occurredAt: input.occurredAt,
      experimentSlug: input.slug,
      variant: row.variant,
      phase: row.phase,
      idempotencyKey: exposure.idempotencyKey,
      properties: exposure.properties as Prisma.InputJsonObject,
    };
  }

  async recordConversion(input: Common & ConversionInput): Promise<RecordOutcome> {
    const found = await this.assignmentOf(input.slug, input.ids);
    if (found === "unknown-experiment") return found;
    if (!found) return "not-enrolled";
    const row = conversionRow(input, found);
    if (!row) return "not-a-conversion-event";
    const inserted = await this.insertEvents(INSERT_EVENTS, this.envelope(input, new Date()), [row]);
    return inserted.size === 1 ? "recorded" : "duplicate";
  }

  /**
   * A browser batch for one request's subjects, in order, with one outcome per event: one read
   * for the assignments of every experiment it names, one statement for all its exposures and one
   * for all its conversions. Keys repeated within the batch count as duplicates, as they would
   * across batches (an experiment's second exposure in a batch, too).
   */
  async recordBatch(
    common: Omit<Common, "occurredAt">,
    events: readonly TrackedEvent[],
  ): Promise<RecordOutcome[]> {
    const snapshot = await this.catalog.getSnapshot();
    const slugs = [...new Set(events.map((event) => event.slug))].filter((slug) => {
      const experiment = snapshot.experiments.get(slug);
      return experiment && subjectFor(experiment.config.scope, common.ids);
    });
    const rows = slugs.length ? await this.repository.findAssignmentsForSubjects(common.ids, slugs) : [];

    const outcomes: RecordOutcome[] = [];
    const conversions: { index: number; row: ConversionRow }[] = [];
    const exposures: { index: number; row: ExposureRow }[] = [];
    const keys = new Set<string>();
    const matches = new Map<string, ReturnType<typeof matchAssignment>>();
    for (const [index, event] of events.entries()) {
      let found = matches.get(event.slug);
      if (found === undefined) {
        found = matchAssignment(snapshot, rows, event.slug, common.ids);
        matches.set(event.slug, found);
      }
      if (found === "unknown-experiment" || !found) {
        outcomes[index] = found || "not-enrolled";
      } else if (event.type === "exposure") {
        const row = await this.exposureRow(event, found);
        if (typeof row === "string") outcomes[index] = row;
        else if (keys.has(row.idempotencyKey)) outcomes[index] = "duplicate";
        else {
          keys.add(row.idempotencyKey);
          exposures.push({ index, row });
        }
      } else {
        const row = conversionRow(event, found);
        if (!row) outcomes[index] = "not-a-conversion-event";
        else if (keys.has(row.idempotencyKey)) outcomes[index] = "duplicate";
        else {
          keys.add(row.idempotencyKey);
          conversions.push({ index, row });
        }
      }
    }
    const envelope = this.envelope(common, new Date());
    for (const [statement, written] of [
      [EXPOSE_EVENTS, exposures],
      [INSERT_EVENTS, conversions],
    ] as const) {
      if (!written.length) continue;
      const inserted = await this.insertEvents(
        statement,
        envelope,
        written.map(({ row }) => row),
      );
      for (const { index, row } of written)
        outcomes[index] = inserted.has(row.idempotencyKey) ? "recorded" : "duplicate";
    }
    return outcomes;
  }

  /** Writes events that share an envelope in one statement; returns the keys it inserted. */
  private async insertEvents(
    statement: SqlStatement,
    envelope: Envelope,
    rows: (ConversionRow | ExposureRow)[],
  ): Promise<Set<string>> {
    const { receivedAt } = envelope;
    const json = JSON.stringify(
      rows.map((row) => ({
        ...("assignmentId" in row ? { assignmentId: row.assignmentId } : {}),
        id: randomUUID(),
        name: row.name,
        occurredAt: (row.occurredAt && row.occurredAt <= receivedAt
          ? row.occurredAt
          : receivedAt
        ).toISOString(),
        experimentSlug: row.experimentSlug,
        variant: row.variant,
        phase: row.phase,
        idempotencyKey: row.idempotencyKey,
        properties: row.properties,
      })),
    );
    const inserted = await this.sql.query<{ idempotencyKey: string }>(statement, [
      json,
      receivedAt,
      envelope.userId,
      envelope.teamId,
      envelope.visitorId,
      envelope.correlationId,
      envelope.source,
      envelope.schemaVersion,
      envelope.consent,
      envelope.deliveryStatus,
    ]);
    return new Set(inserted.map((row) => row.idempotencyKey));
  }

  private envelope(input: Omit<Common, "occurredAt"> & { occurredAt?: Date }, receivedAt: Date) {
    return {
      receivedAt,
      occurredAt: input.occurredAt && input.occurredAt <= receivedAt ? input.occurredAt : receivedAt,
      userId: input.ids.userId ?? null,
      teamId: input.ids.teamId ?? null,
      visitorId: input.ids.visitorId ?? null,
      correlationId: input.correlationId ?? null,
      source: input.source,
      schemaVersion: EVENT_SCHEMA_VERSION,
      ...storedConsent(input.consent),
    };
  }

  /** The row that served this subject in the current phase (a carried-over user row first). */
  private async assignmentOf(slug: string, ids: SubjectIds): Promise<Found | "unknown-experiment" | null> {
    const snapshot = await this.catalog.getSnapshot();
    const experiment = snapshot.experiments.get(slug);
    if (!experiment) return "unknown-experiment";
    if (!subjectFor(experiment.config.scope, ids)) return null;
    const rows = await this.repository.findAssignmentsForSubjects(ids, [slug]);
    return matchAssignment(snapshot, rows, slug, ids);
  }
}

type Envelope = ReturnType<EventRecorder["envelope"]>;
