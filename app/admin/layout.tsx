import Link from "next/link";
import type { ReactNode } from "react";
import { AdminNav } from "@/features/experiments/components/admin-nav";
import { getSession } from "@/server/auth/session";
import { SignOutButton } from "../components/sign-out-button";

/**
 * The console's frame. It shows navigation only to admins; every page and procedure still checks
 * the role itself, since a layout is not a security boundary.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const session = await getSession();
  const isAdmin = session?.user.role === "ADMIN";
  return (
    <div className="admin-shell">
      {isAdmin && (
        <nav className="admin-nav" aria-label="Admin">
          <Link className="brand" href="/admin/experiments">
            Verdict admin
          </Link>
          <AdminNav />
          <span className="muted">{session.user.email}</span>
          <SignOutButton />
        </nav>
      )}
      <main className="admin-main">{children}</main>
    </div>
  );
}
