import { forbidden, redirect } from "next/navigation";
import { getServerSession, type Session } from "next-auth";
import { getAuthOptions } from "./options";

export function getSession(): Promise<Session | null> {
  return getServerSession(getAuthOptions());
}

/** next-auth's session cookie (a JWT): plain or `__Secure-`, whole or split into chunks. */
const SESSION_COOKIE = /(?:^|;)\s*(?:__Secure-)?next-auth\.session-token(?:\.\d+)?=/;

/**
 * The session of a request, without running next-auth when it carries no session cookie (it
 * would answer null): anonymous traffic on the public API skips that work.
 */
export function getSessionIfSignedIn(headers: Headers): Promise<Session | null> {
  return SESSION_COOKIE.test(headers.get("cookie") ?? "") ? getSession() : Promise.resolve(null);
}

/**
 * For admin pages: anonymous visitors go to sign-in (and come back), members get 403. The check
 * runs on the server for every request; hiding links in the UI is never the protection.
 */
export async function requireAdminPage(callbackPath: string): Promise<Session> {
  const session = await getSession();
  if (!session) redirect(`/signin?callbackUrl=${encodeURIComponent(callbackPath)}`);
  if (session.user.role !== "ADMIN") forbidden();
  return session;
}
