// Copy to app/api/<name>/route.ts to use it. Route handlers resolve assignments with the same call.
import { getRequestAssignments } from "@/features/experiments/server/next-request";
import { pricingAbcExperiment } from "../pricing-abc/experiment";

const SLUG = pricingAbcExperiment.slug;

/** GET: this request's variant of the pricing test, e.g. for a server-side price list or an email. */
export async function GET(): Promise<Response> {
  try {
    const { identity, assignments } = await getRequestAssignments({ slugs: [SLUG] });
    const served = assignments[SLUG];
    return Response.json({
      visitorId: identity.visitorId,
      variant: served?.variant ?? null,
      // "assigned" (new), "sticky" (returning), "not-running", "outside-traffic", "concluded", …
      reason: served?.reason ?? null,
    });
  } catch {
    // Assignments could not be read or stored (the database is down): the caller shows its default.
    return Response.json({ variant: null, reason: "unavailable" }, { status: 503 });
  }
}
