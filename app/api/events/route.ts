import { toResponseError } from "@/server/api/errors";
import { createCaller } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { getSessionIfSignedIn } from "@/server/auth/session";

/**
 * `navigator.sendBeacon` target for events left in the queue when a page is hidden. Beacons
 * cannot set a JSON content type, so the body arrives as text; it goes through the same tRPC
 * procedure (validation, rate limits, deduplication) as every other batch.
 */
export async function POST(request: Request): Promise<Response> {
  const text = await request.text();
  if (text.length > 64_000) return Response.json({ error: "Payload too large" }, { status: 413 });
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    return Response.json({ error: "Body must be JSON" }, { status: 400 });
  }
  const caller = createCaller(
    createTRPCContext({ headers: request.headers, session: await getSessionIfSignedIn(request.headers) }),
  );
  try {
    const result = await caller.events.track(input as Parameters<typeof caller.events.track>[0]);
    return Response.json(result);
  } catch (error) {
    return toResponseError(error);
  }
}
