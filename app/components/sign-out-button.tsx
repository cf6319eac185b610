"use client";

import { signOut } from "next-auth/react";

/** Ends the session (next-auth posts to /api/auth/signout with its CSRF token) and goes home. */
export function SignOutButton() {
  return (
    <button type="button" className="secondary" onClick={() => signOut({ callbackUrl: "/" })}>
      Sign out
    </button>
  );
}
