// Copy to app/<route>/page.tsx to use it: files under examples/ are type-checked, not served.
import { ExperimentProvider } from "@/features/experiments/hooks";
import { getRequestAssignments } from "@/features/experiments/server/next-request";
import { logger } from "@/server/logger";
import { homepageHeroExperiment } from "../landing-hero/experiment";
import { pricingAbcExperiment } from "../pricing-abc/experiment";
import { type Plan, PricingCards } from "../pricing-abc/pricing-cards";
import { RecordExposure } from "./record-exposure";

// Assignments depend on the request (cookie, session): never prerender this page at build time.
export const dynamic = "force-dynamic";

const HERO = homepageHeroExperiment.slug;
const PRICING = pricingAbcExperiment.slug;

const HEADLINES: Record<string, string> = {
  control: "Experimentation you can host yourself",
  "outcome-led": "Ship the variant that wins, not the one you guessed",
};

const PLANS: Plan[] = [
  { id: "individual", name: "Individual", monthly: 12, annual: 120, includes: "Unlimited experiments" },
  { id: "teams", name: "Teams", monthly: 30, annual: 300, includes: "Shared experiments and targeting" },
];

type SearchParams = Promise<{ verdict_force?: string | string[] }>;

export default async function HomePage({ searchParams }: { searchParams: SearchParams }) {
  const { verdict_force: force } = await searchParams;
  // One call for every experiment on the page: the session's user and team and the visitor cookie
  // (set by proxy.ts on the very first request), so the first HTML already carries each variant.
  const assignments = await getRequestAssignments({ slugs: [HERO, PRICING], force }).catch(
    (error: unknown) => {
      // The database is unreachable: render the defaults, on purpose, and say so in the log.
      logger.error("home page rendered without assignments", { error: String(error) });
      return null;
    },
  );
  const hero = assignments?.assignments[HERO];
  const headline = (hero?.variant && HEADLINES[hero.variant]) || HEADLINES.control;

  return (
    // The same answer seeds the client hooks: nothing is fetched again, nothing shifts.
    <ExperimentProvider initial={assignments} slugs={[HERO, PRICING]}>
      <main className="stack">
        <h1 data-experiment={HERO} data-variant={hero?.variant ?? "control"}>
          {headline}
        </h1>
        <RecordExposure slug={HERO} />
        <PricingCards plans={PLANS} />
      </main>
    </ExperimentProvider>
  );
}
