import type { CreateExperimentInput } from "../types";

/**
 * A user-level test: each signed-in user keeps one variant on every device. Anonymous visitors are
 * not in it (the hook reports no variant and the component shows the default).
 */
export const upgradeButtonExperiment = {
  slug: "upgrade-button",
  description: "Does naming the price on the upgrade button get more users to upgrade?",
  scope: "user",
  variants: [
    { name: "control", percentage: 50, description: "“Upgrade”" },
    { name: "price-in-label", percentage: 50, description: "“Upgrade for $12/month”" },
  ],
  conversionEvents: ["upgrade_click"],
} satisfies CreateExperimentInput;
