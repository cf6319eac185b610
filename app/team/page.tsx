import type { Metadata } from "next";
import Link from "next/link";
import { ExperimentProvider } from "@/features/experiments/hooks";
import { getRequestAssignments } from "@/features/experiments/server/next-request";
import { getExperimentServices } from "@/features/experiments/server/services";
import { getSession } from "@/server/auth/session";
import { logger } from "@/server/logger";
import { TeamDashboard } from "../_demo/team-dashboard";

export const metadata: Metadata = { title: "Team dashboard" };
export const dynamic = "force-dynamic";

type SearchParams = Promise<{ verdict_force?: string | string[] }>;

export default async function TeamPage({ searchParams }: { searchParams: SearchParams }) {
  const { verdict_force: force } = await searchParams;
  const [session, assignments] = await Promise.all([
    getSession(),
    getRequestAssignments({ slugs: ["team-dashboard-layout"], force }).catch((error: unknown) => {
      logger.error("team page rendered without assignments", { error: String(error) });
      return null;
    }),
  ]);
  const teamId = assignments?.identity.teamId;
  const team = teamId
    ? await getExperimentServices().repository.db.team.findUnique({
        where: { id: teamId },
        select: { name: true },
      })
    : null;
  return (
    <main className="stack">
      <p>
        <Link href="/">← Home</Link>
      </p>
      <h1>Team dashboard</h1>
      <ExperimentProvider initial={assignments} slugs={["team-dashboard-layout"]}>
        <TeamDashboard teamName={team?.name ?? null} />
      </ExperimentProvider>
      {!session && <Link href="/signin?callbackUrl=%2Fteam">Sign in</Link>}
    </main>
  );
}
