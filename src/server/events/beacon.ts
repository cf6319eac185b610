import type { Session } from "next-auth";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { toResponseError } from "../api/errors";
import { createCaller } from "../api/root";
import { createTRPCContext } from "../api/trpc";
import { readBoundedBody } from "./body";

/** A browser queues at most 64 KiB of beacons at a time, so a larger body was never a beacon. */
export const MAX_BEACON_BODY_BYTES = 64 * 1024;

export type EventBeaconDeps = {
  getSession: (headers: Headers) => Promise<Session | null>;
  /** Tests hand in services bound to their own database. */
  experiments?: ExperimentServices;
};

/**
 * `POST /api/events`, independent of Next so tests can call it with a plain Request. Beacons
 * cannot set a JSON content type, so the body is parsed whatever the type says; it then goes
 * through the same tRPC procedure (validation, rate limits, deduplication) as every other batch.
 */
export async function handleEventBeacon(request: Request, deps: EventBeaconDeps): Promise<Response> {
  const body = await readBoundedBody(request, MAX_BEACON_BODY_BYTES);
  if (body === "too-large") return Response.json({ error: "Payload too large" }, { status: 413 });
  let input: unknown;
  try {
    input = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return Response.json({ error: "Body must be JSON" }, { status: 400 });
  }
  const caller = createCaller(
    createTRPCContext({
      headers: request.headers,
      session: await deps.getSession(request.headers),
      experiments: deps.experiments,
    }),
  );
  try {
    return Response.json(await caller.events.track(input as Parameters<typeof caller.events.track>[0]));
  } catch (error) {
    return toResponseError(error);
  }
}
