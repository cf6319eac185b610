import type { ConsentState } from "@/features/experiments/core/events";
import type { PrismaClient } from "@/generated/prisma/client";

/**
 * Applies a visitor's answer to the consent banner to their events: on accept the held ones are
 * released to the dispatcher with their original timestamps; on decline held and not-yet-sent
 * ones stay local (our own results only). Nothing already delivered is touched.
 */
export async function applyConsent(
  db: PrismaClient,
  subject: { visitorId: string | null; userId: string | null },
  consent: Extract<ConsentState, "granted" | "denied">,
): Promise<number> {
  const owners = [
    ...(subject.visitorId ? [{ visitorId: subject.visitorId }] : []),
    ...(subject.userId ? [{ userId: subject.userId }] : []),
  ];
  if (!owners.length) return 0;
  const now = new Date();
  const [result] = await db.$transaction([
    db.event.updateMany({
      where:
        consent === "granted"
          ? { deliveryStatus: "HELD", OR: owners }
          : { deliveryStatus: { in: ["HELD", "PENDING"] }, OR: owners },
      data:
        consent === "granted"
          ? { deliveryStatus: "PENDING", consent: "GRANTED", nextAttemptAt: now }
          : { deliveryStatus: "LOCAL_ONLY", consent: "DENIED" },
    }),
    // The answer itself, kept local: server-side events that arrive later (an order webhook) read
    // the visitor's latest consent from their newest event, so a later decline wins over an
    // earlier accept.
    db.event.create({
      data: {
        name: "$verdict_consent",
        occurredAt: now,
        visitorId: subject.visitorId,
        userId: subject.userId,
        properties: { consent },
        source: "BROWSER",
        idempotencyKey: `consent:${subject.visitorId ?? subject.userId}:${now.getTime()}:${Math.random().toString(36).slice(2, 10)}`,
        consent: consent === "granted" ? "GRANTED" : "DENIED",
        deliveryStatus: "LOCAL_ONLY",
      },
    }),
  ]);
  return result.count;
}

/** Do-Not-Track and Global Privacy Control count as a refusal, whatever the cookie says. */
export function privacySignalRefuses(headers: Headers): boolean {
  return headers.get("sec-gpc") === "1" || headers.get("dnt") === "1";
}
