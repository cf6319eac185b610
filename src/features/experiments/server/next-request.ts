import "server-only";
import { cookies } from "next/headers";
import { parseForcedVariants } from "@/features/experiments/core/force";
import { isVisitorId, VISITOR_COOKIE } from "@/features/experiments/core/visitor";
import { getSession } from "@/server/auth/session";
import { assignmentsForRequest, type RequestAssignments } from "./request-assignments";
import { getExperimentServices } from "./services";

/**
 * The current request's assignments, for server components and route handlers: the same call the
 * ExperimentProvider is seeded from, so the first HTML already carries each variant.
 */
export async function getRequestAssignments(
  options: { slugs?: string[]; force?: string | string[] } = {},
): Promise<RequestAssignments> {
  const [store, session] = await Promise.all([cookies(), getSession()]);
  const visitor = store.get(VISITOR_COOKIE)?.value;
  const force = Array.isArray(options.force) ? options.force.join(",") : options.force;
  return assignmentsForRequest(getExperimentServices(), {
    session,
    visitorId: isVisitorId(visitor) ? visitor : null,
    slugs: options.slugs,
    forced: parseForcedVariants(force),
  });
}
