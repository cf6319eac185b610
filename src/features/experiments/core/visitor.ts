/**
 * The anonymous visitor's identity: a UUID v4 in a first-party cookie, readable by the server on
 * the first request (the proxy sets it) and by the browser (mirrored in localStorage).
 */
export const VISITOR_COOKIE = "verdict_vid";
export const VISITOR_STORAGE_KEY = "verdict_vid";
export const VISITOR_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 60 * 60;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Only well-formed ids are trusted; anything else (tampered, truncated) gets a fresh id. */
export function isVisitorId(value: unknown): value is string {
  return typeof value === "string" && UUID_V4.test(value);
}

export function newVisitorId(): string {
  return globalThis.crypto.randomUUID();
}

/** The Set-Cookie value (or document.cookie assignment) for a visitor id. */
export function visitorCookieString(id: string, options: { secure: boolean }): string {
  const parts = [
    `${VISITOR_COOKIE}=${id}`,
    "Path=/",
    `Max-Age=${VISITOR_COOKIE_MAX_AGE_SECONDS}`,
    "SameSite=Lax",
  ];
  if (options.secure) parts.push("Secure");
  return parts.join("; ");
}

/** Reads one cookie from a Cookie header or `document.cookie`. */
export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const separator = part.indexOf("=");
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) {
      try {
        return decodeURIComponent(part.slice(separator + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}
