"use client";

import { trackConversion, useExperiment } from "@/features/experiments/hooks";
import { upgradeButtonExperiment } from "./experiment";

const SLUG = upgradeButtonExperiment.slug;

const LABELS: Record<string, string> = {
  control: "Upgrade",
  "price-in-label": "Upgrade for $12/month",
};

/**
 * Render inside an <ExperimentProvider> (see examples/server-component/page.tsx). The provider
 * already knows the signed-in user, so no id is passed here.
 */
export function UpgradeButton({ onUpgrade }: { onUpgrade: () => void }) {
  // variant is null when the test is not running or the visitor is not signed in:
  // show the default deliberately.
  const { variant } = useExperiment(SLUG);
  const shown = variant && LABELS[variant] ? variant : "control";

  return (
    <button
      type="button"
      data-experiment={SLUG}
      data-variant={shown}
      onClick={() => {
        // Counted once per call, only for users who are in the test.
        trackConversion(SLUG, "upgrade_click");
        onUpgrade();
      }}
    >
      {LABELS[shown]}
    </button>
  );
}
