import type { Session } from "next-auth";
import type { ConsentState } from "@/features/experiments/core/events";
import type { ForcedVariants } from "@/features/experiments/core/force";
import type { TargetingAttributes } from "@/features/experiments/core/targeting-rules";
import type { AssignmentResult } from "./assignment-service";
import { teamAttributes } from "./request-subject";
import type { ExperimentServices } from "./services";

/** Who the current request is: the signed-in user, their team, and the visitor cookie. */
export type RequestIdentity = { userId: string | null; teamId: string | null; visitorId: string | null };

export type ServedAssignment = AssignmentResult & {
  /** The experiment's configuration version: client caches are dropped when it changes. */
  version: number | null;
};

export type RequestAssignments = {
  identity: RequestIdentity;
  assignments: Record<string, ServedAssignment>;
};

/**
 * The request's subjects and what targeting may know about them: the session's user, their
 * first team (its plan and organization from the database), and the visitor cookie.
 */
export async function identifyRequest(
  services: ExperimentServices,
  session: Session | null,
  visitorId: string | null,
): Promise<{ identity: RequestIdentity; attributes: TargetingAttributes }> {
  const userId = session?.user.id ?? null;
  const attributes: TargetingAttributes = {};
  let teamId: string | null = null;
  if (userId) {
    const membership = await services.repository.db.membership.findFirst({
      where: { userId },
      orderBy: { createdAt: "asc" },
      select: { team: { select: { id: true, plan: true, organizationId: true } } },
    });
    if (membership) {
      teamId = membership.team.id;
      Object.assign(attributes, teamAttributes(membership.team));
    }
    attributes.id = userId;
  }
  return { identity: { userId, teamId, visitorId }, attributes };
}

/**
 * Every experiment's variant for one request, in one call: the call server components make before
 * rendering and the one the browser's provider repeats. The user's team is their first team;
 * targeting sees only what the server knows about it.
 */
export async function assignmentsForRequest(
  services: ExperimentServices,
  request: {
    session: Session | null;
    visitorId: string | null;
    slugs?: string[];
    forced?: ForcedVariants;
    /**
     * Experiments this request renders on the server: their exposures are recorded now (a new
     * assignment and its exposure in one statement), not left to a client hook.
     */
    expose?: { slugs: string[]; consent: ConsentState };
  },
): Promise<RequestAssignments> {
  const { identity, attributes } = await identifyRequest(services, request.session, request.visitorId);
  const snapshot = await services.catalog.getSnapshot();
  const isAdmin = request.session?.user.role === "ADMIN";

  // Forced variants are decided before serving, so a preview never writes an assignment.
  const assignments: Record<string, ServedAssignment> = {};
  for (const [slug, variant] of Object.entries(request.forced ?? {})) {
    const experiment = snapshot.experiments.get(slug);
    if (!experiment || (request.slugs && !request.slugs.includes(slug))) continue;
    if (!isAdmin && !experiment.config.allowForcedVariants) continue;
    if (!experiment.config.variants.some((candidate) => candidate.name === variant)) continue;
    assignments[slug] = {
      slug,
      variant,
      isControl: variant === "control",
      isNewAssignment: false,
      reason: "forced",
      phase: experiment.config.phase,
      version: experiment.version,
    };
  }
  const slugs = (request.slugs ?? [...snapshot.experiments.keys(), ...snapshot.broken.keys()]).filter(
    (slug) => !assignments[slug],
  );
  const expose = request.expose;
  const { results, stickyRows } = await services.assignments.getVariantsWithRows(identity, {
    slugs,
    attributes,
    expose,
  });
  for (const [slug, result] of Object.entries(results)) {
    assignments[slug] = { ...result, version: snapshot.experiments.get(slug)?.version ?? null };
  }
  if (expose) {
    // Enrolled before (or by a concurrent request): exposed once, if not yet, in its own
    // transaction, from the rows just read (an exposed returning subject costs no query here).
    await Promise.all(
      expose.slugs.flatMap((slug) => {
        const row = stickyRows.get(slug);
        if (!row || results[slug]?.reason !== "sticky") return [];
        const input = { ids: identity, source: "SERVER" as const, consent: expose.consent, slug };
        return [services.events.recordExposureOf({ ...input, variant: row.variant }, row)];
      }),
    );
  }
  return { identity, assignments };
}
