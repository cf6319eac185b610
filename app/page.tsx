import Link from "next/link";
import { ExperimentProvider } from "@/features/experiments/hooks";
import { getRequestAssignments } from "@/features/experiments/server/next-request";
import { logger } from "@/server/logger";
import { getServerApi } from "@/trpc/server";
import { LandingHero } from "./_demo/landing-hero";

// Rendered per request: it reads live data and must never be prerendered at build time.
export const dynamic = "force-dynamic";

type SearchParams = Promise<{ verdict_force?: string | string[] }>;

export default async function HomePage({ searchParams }: { searchParams: SearchParams }) {
  const api = await getServerApi();
  const { verdict_force: force } = await searchParams;
  const [health, assignments] = await Promise.all([
    api.health.check().catch(() => null),
    // Resolved before rendering, so the first HTML carries the variant. If assignments are
    // unavailable the page renders the default on purpose, and says so in the log.
    getRequestAssignments({ slugs: ["landing-hero"], force }).catch((error: unknown) => {
      logger.error("home page rendered without assignments", { error: String(error) });
      return null;
    }),
  ]);
  return (
    <main className="stack">
      <h1>Verdict</h1>
      <p className="muted">
        Self-hostable experimentation: sticky assignments, targeting and honest statistics.
      </p>
      <ExperimentProvider initial={assignments} slugs={["landing-hero"]}>
        <LandingHero />
      </ExperimentProvider>
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
      <p className="actions">
        <Link href="/pricing">Pricing (a test for signed-in users)</Link>
        <Link href="/team">Team dashboard (a test per team)</Link>
        <Link href="/admin/experiments">Manage experiments →</Link>
      </p>
    </main>
  );
}
