import type { Metadata } from "next";
import { formatDate } from "@/features/experiments/components/format";
import { RedriveButton } from "@/features/experiments/components/redrive-button";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";
import { getEnv } from "@/server/env";
import { OutboxStore } from "@/server/events/outbox";

export const metadata: Metadata = { title: "Event delivery" };
export const dynamic = "force-dynamic";

const STATES = [
  ["PENDING", "Waiting for the dispatcher"],
  ["HELD", "Held until the visitor answers the consent banner"],
  ["DELIVERED", "Delivered"],
  ["LOCAL_ONLY", "Kept local (no consent)"],
  ["DEAD", "Gave up after the maximum attempts"],
] as const;

/** The outbox at a glance, and the dead letters an admin can re-drive. */
export default async function DeliveryPage() {
  await requireAdminPage("/admin/experiments/delivery");
  const db = getExperimentServices().repository.db;
  const env = getEnv();
  const { counts, dead } = await new OutboxStore(db).overview();
  return (
    <div className="stack">
      <h1>Event delivery</h1>
      <p className="muted">
        {env.POSTHOG_API_KEY
          ? `Exposures and conversions go to PostHog at ${env.POSTHOG_HOST}${env.EVENTS_WEBHOOK_URL ? " and to the events webhook" : ""}.`
          : "PostHog is off (no POSTHOG_API_KEY): events stay in the local store for the results page."}
      </p>
      <dl className="facts card" data-testid="delivery-counts">
        {STATES.map(([state, label]) => (
          <div key={state} style={{ display: "contents" }}>
            <dt>{label}</dt>
            <dd data-state={state}>{(counts[state] ?? 0).toLocaleString("en")}</dd>
          </div>
        ))}
      </dl>
      <section className="card stack" aria-labelledby="dead-title">
        <h2 id="dead-title">Dead letters</h2>
        {dead.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Experiment</th>
                  <th scope="col">Occurred</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last error</th>
                </tr>
              </thead>
              <tbody>
                {dead.map((event) => (
                  <tr key={event.id}>
                    <td>{event.name}</td>
                    <td>{event.experimentSlug ?? "—"}</td>
                    <td>{formatDate(event.occurredAt)}</td>
                    <td>{event.attempts}</td>
                    <td>{event.lastError}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <RedriveButton count={counts.DEAD ?? 0} />
      </section>
    </div>
  );
}
