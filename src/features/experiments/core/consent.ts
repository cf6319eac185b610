import type { ConsentState } from "./events";

/** The visitor's answer to the consent banner, kept in a first-party cookie. */
export const CONSENT_COOKIE = "verdict_consent";

export function consentFromCookie(value: string | null | undefined): ConsentState {
  if (value === "granted") return "granted";
  if (value === "denied") return "denied";
  return "pending";
}
