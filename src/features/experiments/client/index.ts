export { useCartAttributes } from "./cart";
export type { ExperimentOptions, ExperimentState } from "./hooks";
export { trackConversion, useExperiment, useExperimentVariant, useVisitorExperiment } from "./hooks";
export type { ExperimentContextValue } from "./provider";
export { ExperimentProvider, useExperimentContext } from "./provider";
export type { ExperimentTracker, TrackedSubject } from "./tracker";
export { createBrowserTracker } from "./tracker";
export { getOrCreateVisitorId } from "./visitor-id";
