import { createHash } from "node:crypto";
import { eventUuidSource, uuidFromSha1Hex } from "@/features/experiments/core/events";

/**
 * The core's eventUuid, with the SHA-1 from node:crypto: the dispatcher derives one per event it
 * delivers, and the core's pure-JS digest (kept for the browser) was about 6% of its CPU; this one
 * takes under half the time (2.3 against 5.5 µs a uuid here).
 */
export function serverEventUuid(idempotencyKey: string): string {
  return uuidFromSha1Hex(createHash("sha1").update(eventUuidSource(idempotencyKey)).digest("hex"));
}
