/**
 * Verdict's pure experiment core: no I/O, deterministic, importable from the browser and the
 * server alike.
 */
export * from "./admin-inputs";
export * from "./assign";
export * from "./bucketing";
export * from "./conditions";
export * from "./config";
export * from "./decide";
export * from "./hash";
export * from "./inputs";
export * from "./lifecycle";
export * from "./posthog";
export * from "./sha1";
export * from "./stats";
export * from "./targeting";
export * from "./targeting-rules";
export * from "./variants";
export * from "./versions";
