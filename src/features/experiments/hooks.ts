/** The client SDK's public surface: hooks, provider, visitor identity and conversions. */
export * from "./client";
