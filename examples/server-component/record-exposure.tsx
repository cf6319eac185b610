"use client";

import { useExperiment } from "@/features/experiments/hooks";

/**
 * Exposures are recorded by the client hooks, after the variant is on screen. Content rendered
 * only on the server records nothing by itself: place this next to it (inside the same
 * <ExperimentProvider>) so the view is counted, once per subject, experiment and phase.
 */
export function RecordExposure({ slug }: { slug: string }) {
  useExperiment(slug);
  return null;
}
