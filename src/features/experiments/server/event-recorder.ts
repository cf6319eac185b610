import {
  CONVERSION_EVENT,
  type ConsentState,
  EVENT_SCHEMA_VERSION,
  EXPOSURE_EVENT,
  withoutPii,
} from "@/features/experiments/core/events";
import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import type { ExperimentCatalog } from "./catalog";
import type { ExperimentRepository, StoredAssignment } from "./repository";
import { type SubjectIds, subjectColumn, subjectFor } from "./subjects";

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

const CONSENT = {
  granted: "GRANTED",
  denied: "DENIED",
  pending: "PENDING",
  "not-required": "NOT_REQUIRED",
} as const;

/** Consent decides where an event may go: held until answered, kept local when declined. */
function deliveryFor(consent: ConsentState) {
  if (consent === "denied") return "LOCAL_ONLY" as const;
  if (consent === "pending") return "HELD" as const;
  return "PENDING" as const;
}

/**
 * Records exposures and conversions in the event table (the outbox the dispatcher delivers from).
 * An exposure is deduplicated against the assignment itself: the first one stamps
 * `firstExposedAt` on the row and writes the event, in one transaction, so one subject yields one
 * exposure per experiment and phase however many tabs, reloads or retries send it.
 */
export class EventRecorder {
  constructor(
    private readonly repository: ExperimentRepository,
    private readonly catalog: ExperimentCatalog,
  ) {}

  private get db(): PrismaClient {
    return this.repository.db;
  }

  async recordExposure(input: Common & { slug: string; variant: string }): Promise<RecordOutcome> {
    const found = await this.assignmentOf(input.slug, input.ids);
    if (found === "unknown-experiment") return found;
    if (!found) return "not-enrolled";
    const { row, experiment } = found;
    if (row.variant !== input.variant) {
      // Shown a variant other than the one assigned (a stale cache, a forced preview leaking):
      // flag the assignment for analysis; the exposure still counts once, for the assigned variant.
      await this.db.experimentVariant.update({
        where: { id: row.id },
        data: { metadata: { seenInOtherVariant: input.variant, flaggedAt: new Date().toISOString() } },
      });
      return "variant-mismatch";
    }
    const now = new Date();
    const subject = subjectOf(row);
    return this.db.$transaction(async (tx) => {
      const stamped = await tx.experimentVariant.updateMany({
        where: { id: row.id, firstExposedAt: null },
        data: { firstExposedAt: now },
      });
      if (stamped.count === 0) return "duplicate";
      await tx.event.create({
        data: {
          ...this.envelope(input, now),
          name: EXPOSURE_EVENT,
          experimentSlug: input.slug,
          variant: row.variant,
          phase: row.phase,
          idempotencyKey: `exposure:${input.slug}:${row.phase}:${subject}`,
          properties: {
            experiment_slug: input.slug,
            variant: row.variant,
            assignment_type: row.assignmentType.toLowerCase(),
            [`$feature/${input.slug}`]: row.variant,
            ...(experiment.setPersonProperty ? { $set: { [`experiment_${input.slug}`]: row.variant } } : {}),
          },
        },
      });
      return "recorded";
    });
  }

  async recordConversion(
    input: Common & {
      slug: string;
      event: string;
      idempotencyKey: string;
      properties?: Record<string, unknown>;
    },
  ): Promise<RecordOutcome> {
    const found = await this.assignmentOf(input.slug, input.ids);
    if (found === "unknown-experiment") return found;
    if (!found) return "not-enrolled";
    const { row, experiment } = found;
    if (experiment.conversionEvents.length && !experiment.conversionEvents.includes(input.event))
      return "not-a-conversion-event";
    const created = await this.db.event.createMany({
      data: [
        {
          ...this.envelope(input, new Date()),
          name: CONVERSION_EVENT,
          experimentSlug: input.slug,
          variant: row.variant,
          phase: row.phase,
          idempotencyKey: `conversion:${input.idempotencyKey}`,
          properties: {
            ...(withoutPii(input.properties ?? {}) as Prisma.InputJsonObject),
            experiment_slug: input.slug,
            variant: row.variant,
            conversion_event: input.event,
            [`$feature/${input.slug}`]: row.variant,
          },
        },
      ],
      skipDuplicates: true,
    });
    return created.count === 1 ? "recorded" : "duplicate";
  }

  private envelope(input: Common, receivedAt: Date) {
    return {
      occurredAt: input.occurredAt && input.occurredAt <= receivedAt ? input.occurredAt : receivedAt,
      userId: input.ids.userId ?? null,
      teamId: input.ids.teamId ?? null,
      visitorId: input.ids.visitorId ?? null,
      correlationId: input.correlationId ?? null,
      source: input.source,
      schemaVersion: EVENT_SCHEMA_VERSION,
      consent: CONSENT[input.consent],
      deliveryStatus: deliveryFor(input.consent),
    };
  }

  /** The row that served this subject in the current phase (a carried-over user row first). */
  private async assignmentOf(slug: string, ids: SubjectIds) {
    const snapshot = await this.catalog.getSnapshot();
    const experiment = snapshot.experiments.get(slug);
    if (!experiment) return "unknown-experiment" as const;
    const subject = subjectFor(experiment.config.scope, ids);
    if (!subject) return null;
    const rows = await this.repository.findAssignmentsForSubjects(ids, [slug]);
    const current = rows.filter((row) => row.phase === experiment.config.phase);
    const carried =
      subject.kind === "visitor" && ids.userId ? current.find((row) => row.userId === ids.userId) : undefined;
    const column = subjectColumn(subject.kind);
    const row = carried ?? current.find((candidate) => candidate[column] === subject.id);
    return row ? { row, experiment: experiment.config } : null;
  }
}

function subjectOf(row: StoredAssignment): string {
  if (row.userId) return `user:${row.userId}`;
  if (row.teamId) return `team:${row.teamId}`;
  return `visitor:${row.visitorId}`;
}
