import { forbidden, redirect } from "next/navigation";
import { getServerSession, type Session } from "next-auth";
import { getAuthOptions } from "./options";

export function getSession(): Promise<Session | null> {
  return getServerSession(getAuthOptions());
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
