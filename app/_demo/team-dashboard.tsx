"use client";

import { trackConversion, useExperiment } from "@/features/experiments/hooks";

const ITEMS = ["Checkout copy test", "Onboarding checklist", "Pricing page test", "Search ranking"];

/** A team-scoped test: every member of a team sees the same dashboard layout. */
export function TeamDashboard({ teamName }: { teamName: string | null }) {
  const { variant } = useExperiment("team-dashboard-layout", { skip: !teamName });
  const layout = variant ?? "control";
  return (
    <section className="stack" data-experiment="team-dashboard-layout" data-variant={layout}>
      <p className="muted">
        {teamName
          ? `Team: ${teamName}`
          : "Sign in as a team member to take part; you see the default meanwhile."}
      </p>
      <div className={layout === "cards" ? "grid-2" : "stack"}>
        {ITEMS.map((item) => (
          <div key={item} className="card row">
            <span className="grow">{item}</span>
            <button
              type="button"
              className="secondary"
              onClick={() => trackConversion("team-dashboard-layout", "dashboard_action", { item })}
            >
              Open
            </button>
          </div>
        ))}
      </div>
    </section>
  );
}
