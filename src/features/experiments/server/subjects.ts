import type { ExperimentScope } from "@/features/experiments/core/config";
import type { StoredAssignment } from "./repository";

/** Who is being assigned: one id of one kind, matching an experiment's scope. */
export type Subject = { kind: ExperimentScope; id: string };

/** Every id known for the current request; each experiment picks the one of its scope. */
export type SubjectIds = { userId?: string | null; teamId?: string | null; visitorId?: string | null };

export function subjectFor(scope: ExperimentScope, ids: SubjectIds): Subject | null {
  const id = scope === "user" ? ids.userId : scope === "team" ? ids.teamId : ids.visitorId;
  return id ? { kind: scope, id } : null;
}

/** The ExperimentVariant column that holds a subject of this kind. */
export function subjectColumn(kind: ExperimentScope): "userId" | "teamId" | "visitorId" {
  return kind === "user" ? "userId" : kind === "team" ? "teamId" : "visitorId";
}

/**
 * Whether a signed-in user's carried-over assignment (made when they signed in on another device)
 * may serve this subject instead of its own row: in visitor-scoped tests, for signed-in requests.
 */
export function carriedOverMayServe(subject: Subject, signedInUserId?: string | null): boolean {
  return subject.kind === "visitor" && Boolean(signedInUserId);
}

/**
 * Among a request's stored assignments, the one serving `slug` in `phase` to `subject`. For a
 * visitor-scoped test, a signed-in user's carried-over assignment (made when they signed in on
 * another device) wins over this browser's, so one person sees one variant everywhere.
 */
export function servingAssignment(
  rows: readonly StoredAssignment[],
  slug: string,
  phase: number,
  subject: Subject,
  signedInUserId?: string | null,
): StoredAssignment | undefined {
  const inPhase = (row: StoredAssignment) => row.experimentSlug === slug && row.phase === phase;
  if (carriedOverMayServe(subject, signedInUserId)) {
    const carried = rows.find((row) => inPhase(row) && row.userId === signedInUserId);
    if (carried) return carried;
  }
  const column = subjectColumn(subject.kind);
  return rows.find((row) => inPhase(row) && row[column] === subject.id);
}
