export { useCartAttributes } from "./cart";
export { trackConversion, useExperiment, useExperimentVariant, useVisitorExperiment } from "./hooks";
export { ExperimentProvider, useExperimentContext } from "./provider";
export type { ExperimentTracker } from "./tracker";
export { createBrowserTracker } from "./tracker";
export { getOrCreateVisitorId } from "./visitor-id";
