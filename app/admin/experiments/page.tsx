import type { Metadata } from "next";
import { requireAdminPage } from "@/server/auth/session";
import { getDb } from "@/server/db/client";

export const metadata: Metadata = { title: "Experiments" };
export const dynamic = "force-dynamic";

export default async function ExperimentsPage() {
  const session = await requireAdminPage("/admin/experiments");
  const experiments = await getDb().feature.findMany({
    where: { type: "EXPERIMENT" },
    orderBy: { createdAt: "desc" },
    select: { slug: true, description: true, enabled: true },
  });
  return (
    <main className="stack">
      <h1>Experiments</h1>
      <p className="muted">Signed in as {session.user.email}</p>
      <ul className="card" data-testid="experiment-list">
        {experiments.map((experiment) => (
          <li key={experiment.slug}>
            <strong>{experiment.slug}</strong> {experiment.enabled ? "(running)" : ""}:{" "}
            {experiment.description}
          </li>
        ))}
      </ul>
    </main>
  );
}
