import type { ExperimentScope } from "@/features/experiments/core/config";

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
