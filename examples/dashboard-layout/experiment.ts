import type { CreateExperimentInput } from "../types";

/**
 * A team-level test: the whole team is one subject, so every member sees the same layout. The
 * request's team is the signed-in user's first team (by membership date).
 */
export const dashboardLayoutExperiment = {
  slug: "dashboard-layout",
  description: "Does a card grid make teams act on more of their experiments than the list?",
  scope: "team",
  variants: [
    { name: "control", percentage: 50, description: "The list" },
    { name: "cards", percentage: 50, description: "A card grid" },
  ],
  conversionEvents: ["dashboard_action"],
} satisfies CreateExperimentInput;
