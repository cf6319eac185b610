import { randomUUID } from "node:crypto";
import type { Session } from "next-auth";
import type { ConsentState, TrackedEvent } from "@/features/experiments/core/events";
import { ExperimentError } from "./errors";
import type { RecordOutcome } from "./event-recorder";
import { identifyRequest } from "./request-assignments";
import { resolveRequestSubject } from "./request-subject";
import type { ExperimentServices } from "./services";
import type { SubjectIds } from "./subjects";

/** An event naming a subject the caller may not speak for: nothing is recorded for it. */
export type TrackOutcome = RecordOutcome | "forbidden-subject";

function subjectKey(subject: TrackedEvent["subject"]): string {
  if (!subject) return "";
  return `${subject.userId ?? ""}|${subject.teamId ?? ""}|${subject.visitorId ?? ""}`;
}

/**
 * Records a browser batch. Events without a `subject` are for the request's own subjects; events
 * with one are for those ids, allowed exactly when `getVariant` would answer for them (a user only
 * for themselves signed in, a team only for its members), so a hook given explicit ids credits the
 * exposure to the subject it rendered for, and never to whoever the cookie names.
 */
export async function trackBrowserEvents(
  services: ExperimentServices,
  request: { session: Session | null; visitorId: string | null; consent: ConsentState },
  events: readonly TrackedEvent[],
): Promise<TrackOutcome[]> {
  const groups = new Map<string, { subject: TrackedEvent["subject"]; indexes: number[] }>();
  for (const [index, event] of events.entries()) {
    const key = subjectKey(event.subject);
    const group = groups.get(key);
    if (group) group.indexes.push(index);
    else groups.set(key, { subject: event.subject, indexes: [index] });
  }

  const outcomes: TrackOutcome[] = new Array(events.length);
  // One id per request: the events a browser sent together can be found together.
  const correlationId = randomUUID();
  for (const { subject, indexes } of groups.values()) {
    const ids = await idsFor(services, request, subject);
    if (!ids) {
      for (const index of indexes) outcomes[index] = "forbidden-subject";
      continue;
    }
    const batch = indexes.map((index) => {
      const { subject: _, ...event } = events[index] as TrackedEvent;
      return event as TrackedEvent;
    });
    const recorded = await services.events.recordBatch(
      { ids, source: "BROWSER", consent: request.consent, correlationId },
      batch,
    );
    for (const [position, index] of indexes.entries()) outcomes[index] = recorded[position] as TrackOutcome;
  }
  return outcomes;
}

async function idsFor(
  services: ExperimentServices,
  request: { session: Session | null; visitorId: string | null },
  subject: TrackedEvent["subject"],
): Promise<SubjectIds | null> {
  if (!subject || !(subject.userId || subject.teamId || subject.visitorId)) {
    return (await identifyRequest(services, request.session, request.visitorId)).identity;
  }
  try {
    return (await resolveRequestSubject(services.repository, request.session, subject)).ids;
  } catch (error) {
    if (error instanceof ExperimentError && error.code === "SUBJECT_FORBIDDEN") return null;
    throw error;
  }
}
