"use client";

import { trackConversion, useExperiment, useExperimentContext } from "@/features/experiments/hooks";
import { dashboardLayoutExperiment } from "./experiment";

const SLUG = dashboardLayoutExperiment.slug;

type Item = { id: string; title: string };

/** Every member of a team gets the team's layout; someone without a team gets the list. */
export function TeamDashboard({ items }: { items: Item[] }) {
  const { identity } = useExperimentContext();
  const { variant } = useExperiment(SLUG);
  const layout = variant === "cards" ? "cards" : "control";

  return (
    <section data-experiment={SLUG} data-variant={layout}>
      {identity.teamId ? null : <p>Join a team to see your team's dashboard.</p>}
      <ul className={layout === "cards" ? "grid-2" : "stack"}>
        {items.map((item) => (
          <li key={item.id} className={layout === "cards" ? "card" : "row"}>
            <span>{item.title}</span>
            <button
              type="button"
              onClick={() => trackConversion(SLUG, "dashboard_action", { item: item.id })}
            >
              Open
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
