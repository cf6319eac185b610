import type { AssignmentReason, PeekReason } from "@/features/experiments/core/decide";
import { EVENT_SCHEMA_VERSION, exposureRecord, storedConsent } from "@/features/experiments/core/events";
import { logger } from "@/server/logger";
import type { AssignmentResult, GetVariantsOptions } from "./assignment-service";
import type { CatalogExperiment, CatalogSnapshot } from "./catalog";
import { scopeMismatch } from "./errors";
import type { ExposureEnvelope, NewAssignment, StoredAssignment } from "./repository";
import { type Subject, type SubjectIds, servingAssignment, subjectColumn, subjectFor } from "./subjects";

/** An experiment a request asks about that needs a decision, with the subject its scope picks. */
export type Candidate = { experiment: CatalogExperiment; subject: Subject };

/** A candidate the rules enroll now, with the variant drawn for it. */
export type Enrolment = Candidate & { variant: string };

const SUBJECT_KINDS: readonly string[] = ["user", "team", "visitor"];

/** A `{ kind, id }` subject, as opposed to a request's `{ userId, teamId, visitorId }`. */
export function isSubject(value: Subject | SubjectIds): value is Subject {
  return "kind" in value && "id" in value;
}

export function idsOf(subject: Subject): SubjectIds {
  if (!SUBJECT_KINDS.includes(subject.kind) || typeof subject.id !== "string")
    // Read as ids it would match nothing, and every experiment would quietly say missing-subject.
    throw new TypeError(`Not a subject: ${JSON.stringify(subject)}`);
  return { [subjectColumn(subject.kind)]: subject.id };
}

export function isSlugList(
  selection: readonly string[] | GetVariantsOptions,
): selection is readonly string[] {
  return Array.isArray(selection);
}

/** Generic in the reason so that a peek's answer, which may be `would-assign-randomly`, is one too. */
export function result<Reason extends PeekReason>(
  slug: string,
  variant: string | null,
  reason: Reason,
  phase: number | null,
  isNewAssignment = false,
): Omit<AssignmentResult, "reason"> & { reason: Reason } {
  return { slug, variant, isControl: variant === "control", isNewAssignment, reason, phase };
}

/** The answer for an experiment of the catalog, in its current phase. */
export function experimentResult(
  experiment: CatalogExperiment,
  variant: string | null,
  reason: AssignmentReason,
  isNewAssignment = false,
): AssignmentResult {
  return result(experiment.slug, variant, reason, experiment.config.phase, isNewAssignment);
}

/** The experiment, or null when unknown; throws for broken configuration or the wrong scope. */
export function experimentFor(
  snapshot: CatalogSnapshot,
  slug: string,
  subject: Subject,
): CatalogExperiment | null {
  const broken = snapshot.broken.get(slug);
  if (broken) throw broken.error;
  const experiment = snapshot.experiments.get(slug);
  if (!experiment) return null;
  if (experiment.config.scope !== subject.kind)
    throw scopeMismatch(slug, experiment.config.scope, subject.kind);
  return experiment;
}

/**
 * Answers in `results` each requested slug that no decision can serve (unknown, broken, or no id
 * for its scope) and returns the rest as candidates. No `slugs` means every experiment, broken ones
 * included. It fills the caller's record rather than returning one so the hot path builds only one.
 */
export function sortRequested(
  snapshot: CatalogSnapshot,
  slugs: readonly string[] | undefined,
  ids: SubjectIds,
  results: Record<string, AssignmentResult>,
): Candidate[] {
  const candidates: Candidate[] = [];
  for (const slug of slugs ?? [...snapshot.experiments.keys(), ...snapshot.broken.keys()]) {
    const experiment = snapshot.experiments.get(slug);
    if (!experiment) {
      const broken = snapshot.broken.get(slug);
      if (broken) logger.error("experiment configuration is invalid", { slug, issues: broken.error.issues });
      results[slug] = result(slug, null, broken ? "invalid-config" : "unknown-experiment", null);
      continue;
    }
    const subject = subjectFor(experiment.config.scope, ids);
    if (!subject) results[slug] = experimentResult(experiment, null, "missing-subject");
    else candidates.push({ experiment, subject });
  }
  return candidates;
}

export function toNewAssignment(
  experiment: CatalogExperiment,
  subject: Subject,
  variant: string,
): NewAssignment {
  return {
    experimentSlug: experiment.slug,
    phase: experiment.config.phase,
    variant,
    subject,
    assignmentType: experiment.config.assignmentType === "random" ? "RANDOM" : "DETERMINISTIC",
  };
}

/**
 * The rows that store `enrolments`. Those of experiments the caller exposes carry their exposure
 * record, so the statement that stores the assignment also queues its `experiment_viewed` event.
 */
export function enrolmentRows(
  enrolments: readonly Enrolment[],
  expose: GetVariantsOptions["expose"],
): NewAssignment[] {
  return enrolments.map((e) => {
    const row = toNewAssignment(e.experiment, e.subject, e.variant);
    if (!expose?.slugs.includes(e.experiment.slug)) return row;
    const exposure = exposureRecord({
      slug: row.experimentSlug,
      phase: row.phase,
      variant: row.variant,
      assignmentType: row.assignmentType,
      subjectKey: `${e.subject.kind}:${e.subject.id}`,
      setPersonProperty: e.experiment.config.setPersonProperty,
    });
    return { ...row, exposure };
  });
}

/** The envelope of the exposures enrolmentRows adds, when the caller exposes any. */
export function exposureEnvelope(expose: GetVariantsOptions["expose"]): ExposureEnvelope | undefined {
  return expose && { ...storedConsent(expose.consent), schemaVersion: EVENT_SCHEMA_VERSION };
}

/** The stored row serving the subject in the experiment's current phase (see servingAssignment). */
export function findFor(
  rows: StoredAssignment[],
  experiment: CatalogExperiment,
  subject: Subject,
  signedInUserId?: string | null,
): StoredAssignment | undefined {
  return servingAssignment(rows, experiment.slug, experiment.config.phase, subject, signedInUserId);
}
