const DEFAULT_DESTINATION = "/admin/experiments";
const PLACEHOLDER_ORIGIN = "http://verdict.invalid";

/**
 * Only same-site paths are accepted as a destination after sign-in (no open redirects). The
 * check is the browser's own parsing: "/\evil.example" or "/\t/evil.example" look like paths
 * but lead to another host, so a path must still resolve to this origin.
 */
export function safeCallback(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/")) return DEFAULT_DESTINATION;
  try {
    const url = new URL(value, PLACEHOLDER_ORIGIN);
    if (url.origin !== PLACEHOLDER_ORIGIN) return DEFAULT_DESTINATION;
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return DEFAULT_DESTINATION;
  }
}
