import Link from "next/link";
import { getServerApi } from "@/trpc/server";

// Rendered per request: it reads live data and must never be prerendered at build time.
export const dynamic = "force-dynamic";

export default async function HomePage() {
  const api = await getServerApi();
  const health = await api.health.check().catch(() => null);
  return (
    <main className="stack">
      <h1>Verdict</h1>
      <p className="muted">
        Self-hostable experimentation: sticky assignments, targeting and honest statistics.
      </p>
      <section className="card" aria-labelledby="status-heading">
        <h2 id="status-heading">Status</h2>
        {health ? (
          <p data-testid="health-status">
            <span className="status-ok">Database OK</span> · {health.runningExperiments} running experiment
            {health.runningExperiments === 1 ? "" : "s"} · schema {health.latestMigration ?? "not migrated"}
          </p>
        ) : (
          <p data-testid="health-status" className="status-bad">
            Database unavailable
          </p>
        )}
      </section>
      <p>
        <Link href="/admin/experiments">Manage experiments →</Link>
      </p>
    </main>
  );
}
