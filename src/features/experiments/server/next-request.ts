import "server-only";
import { cookies, headers } from "next/headers";
import { CONSENT_COOKIE, consentFromCookie } from "@/features/experiments/core/consent";
import { parseForcedVariants } from "@/features/experiments/core/force";
import { isVisitorId, VISITOR_COOKIE } from "@/features/experiments/core/visitor";
import { getSession } from "@/server/auth/session";
import { privacySignalRefuses } from "@/server/events/consent";
import { assignmentsForRequest, type RequestAssignments } from "./request-assignments";
import { getExperimentServices } from "./services";

/**
 * The current request's assignments, for server components and route handlers: the same call the
 * ExperimentProvider is seeded from, so the first HTML already carries each variant.
 *
 * `expose` names the experiments this page renders on the server itself (content no client hook
 * renders): their exposures are recorded here, a new subject's in the same statement as its
 * assignment, with the request's consent (cookie, Do Not Track, Global Privacy Control).
 */
export async function getRequestAssignments(
  options: { slugs?: string[]; force?: string | string[]; expose?: string[] } = {},
): Promise<RequestAssignments> {
  const [store, requestHeaders, session] = await Promise.all([cookies(), headers(), getSession()]);
  const visitor = store.get(VISITOR_COOKIE)?.value;
  const force = Array.isArray(options.force) ? options.force.join(",") : options.force;
  const consent = privacySignalRefuses(requestHeaders)
    ? ("denied" as const)
    : consentFromCookie(store.get(CONSENT_COOKIE)?.value ?? null);
  return assignmentsForRequest(getExperimentServices(), {
    session,
    visitorId: isVisitorId(visitor) ? visitor : null,
    slugs: options.slugs,
    forced: parseForcedVariants(force),
    ...(options.expose?.length ? { expose: { slugs: options.expose, consent } } : {}),
  });
}
