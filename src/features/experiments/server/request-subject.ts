import type { Session } from "next-auth";
import type { TargetingAttributes } from "@/features/experiments/core/targeting-rules";
import { ExperimentError } from "./errors";
import type { ExperimentRepository } from "./repository";
import type { SubjectIds } from "./subjects";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** User and team ids are database uuids; anything else cannot name one (and must not reach a uuid column). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Checks who a public request may speak for, and what targeting may believe about them. A
 * signed-in user may ask for themselves and for teams they belong to; facts the server knows
 * (a team's plan and organization) override whatever the client claims, so nobody talks their way
 * into a test. Visitors are anonymous and speak only for their own cookie id.
 */
export async function resolveRequestSubject(
  repository: ExperimentRepository,
  session: Session | null,
  ids: SubjectIds,
  clientAttributes: Record<string, unknown> = {},
): Promise<{ ids: SubjectIds; attributes: TargetingAttributes }> {
  const attributes: TargetingAttributes = { ...clientAttributes };
  delete attributes.plan;
  delete attributes.teamId;
  delete attributes.organizationId;

  if (ids.userId) {
    if (session?.user.id !== ids.userId) {
      throw new ExperimentError("SUBJECT_FORBIDDEN", "A userId can only be used by that user, signed in");
    }
    attributes.id = ids.userId;
    if (!ids.teamId) {
      // Without a team in the request, a user's plan and organization are their first team's, so
      // plan targeting works for user-scoped tests (the admin preview assumes the same).
      const membership = await repository.db.membership.findFirst({
        where: { userId: ids.userId },
        orderBy: { createdAt: "asc" },
        select: { team: { select: { id: true, plan: true, organizationId: true } } },
      });
      if (membership) Object.assign(attributes, teamAttributes(membership.team));
    }
  }
  if (ids.teamId) {
    const team =
      session && isUuid(ids.teamId) ? await repository.findTeamOfMember(ids.teamId, session.user.id) : null;
    if (!team)
      throw new ExperimentError(
        "SUBJECT_FORBIDDEN",
        "A teamId can only be used by a signed-in member of that team",
      );
    Object.assign(attributes, teamAttributes(team));
  }
  return { ids, attributes };
}

/** What targeting may believe about a team: the server's facts, never the client's. */
export function teamAttributes(team: {
  id: string;
  plan: string;
  organizationId: string | null;
}): TargetingAttributes {
  return {
    teamId: team.id,
    plan: team.plan.toLowerCase() as TargetingAttributes["plan"],
    organizationId: team.organizationId,
  };
}
