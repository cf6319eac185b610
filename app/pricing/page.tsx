import type { Metadata } from "next";
import Link from "next/link";
import { ExperimentProvider } from "@/features/experiments/hooks";
import { getRequestAssignments } from "@/features/experiments/server/next-request";
import { getSession } from "@/server/auth/session";
import { logger } from "@/server/logger";
import { PricingTable } from "../_demo/pricing-table";

export const metadata: Metadata = { title: "Pricing" };
export const dynamic = "force-dynamic";

type SearchParams = Promise<{ verdict_force?: string | string[] }>;

export default async function PricingPage({ searchParams }: { searchParams: SearchParams }) {
  const { verdict_force: force } = await searchParams;
  const [session, assignments] = await Promise.all([
    getSession(),
    getRequestAssignments({ slugs: ["pricing-page"], force }).catch((error: unknown) => {
      logger.error("pricing page rendered without assignments", { error: String(error) });
      return null;
    }),
  ]);
  return (
    <main className="stack">
      <p>
        <Link href="/">← Home</Link>
      </p>
      <h1>Pricing</h1>
      <ExperimentProvider initial={assignments} slugs={["pricing-page"]}>
        <PricingTable signedIn={Boolean(session)} />
      </ExperimentProvider>
      {!session && <Link href="/signin?callbackUrl=%2Fpricing">Sign in</Link>}
    </main>
  );
}
