import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AnalysisSettingsForm } from "@/features/experiments/components/analysis-settings-form";
import { CumulativeChart } from "@/features/experiments/components/cumulative-chart";
import { ForestPlot } from "@/features/experiments/components/forest-plot";
import { formatDate } from "@/features/experiments/components/format";
import { ResultsHealth } from "@/features/experiments/components/results-health";
import { ResultsTables } from "@/features/experiments/components/results-tables";
import { ResultsVerdict } from "@/features/experiments/components/results-verdict";
import { RollupFreshness } from "@/features/experiments/components/rollup-freshness";
import { SampleSizeCalculator } from "@/features/experiments/components/sample-size-calculator";
import { StatusBadge } from "@/features/experiments/components/status-badge";
import { resultsInputSchema } from "@/features/experiments/core/admin-inputs";
import { posthogInsightUrl } from "@/features/experiments/core/posthog-link";
import { ExperimentError } from "@/features/experiments/server/errors";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";
import { getEnv } from "@/server/env";

export const dynamic = "force-dynamic";
type Params = Promise<{ slug: string }>;
type Search = Promise<{ phase?: string; population?: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  return { title: `Results · ${(await params).slug}` };
}

export default async function ResultsPage({
  params,
  searchParams,
}: {
  params: Params;
  searchParams: Search;
}) {
  const { slug } = await params;
  const search = await searchParams;
  await requireAdminPage(`/admin/experiments/${slug}/results`);
  const input = resultsInputSchema.safeParse({
    slug,
    phase: search.phase ? Number(search.phase) : undefined,
    population: search.population || undefined,
  });
  if (!input.success) notFound();
  const services = getExperimentServices();
  const notFoundOn = (error: unknown) => {
    if (error instanceof ExperimentError && ["EXPERIMENT_NOT_FOUND", "PHASE_NOT_FOUND"].includes(error.code))
      notFound();
    throw error;
  };
  const experiment = await services.admin.get(slug).catch(notFoundOn);
  const results = await services.results
    .results(slug, { phase: input.data.phase, population: input.data.population })
    .catch(notFoundOn);
  const env = getEnv();
  const variants = results.analysis.metrics[0]?.rows.map((row) => row.variant) ?? [];
  const query = (changes: Record<string, string | number>) =>
    `?${new URLSearchParams({ phase: String(results.phase), population: results.analysis.population, ...Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, String(v)])) })}`;
  const control = results.analysis.metrics[0]?.rows.find((row) => row.isControl);

  return (
    <div className="stack">
      <p>
        <Link href={`/admin/experiments/${slug}`}>← {slug}</Link>
      </p>
      <div className="row">
        <h1 className="grow" style={{ wordBreak: "break-word" }}>
          Results: {slug}
        </h1>
        <StatusBadge status={results.status} />
      </div>
      <nav className="row" aria-label="Results options" style={{ flexWrap: "wrap", gap: 12 }}>
        <span>
          Phase:{" "}
          {results.phases.map((phase) =>
            phase === results.phase ? (
              <strong key={phase} aria-current="page">
                {phase}{" "}
              </strong>
            ) : (
              <Link key={phase} href={query({ phase })}>
                {phase}{" "}
              </Link>
            ),
          )}
        </span>
        <span>
          Counting:{" "}
          {results.analysis.population === "exposed" ? (
            <>
              <strong>exposed</strong> · <Link href={query({ population: "assigned" })}>all assigned</Link>
            </>
          ) : (
            <>
              <Link href={query({ population: "exposed" })}>exposed</Link> · <strong>all assigned</strong>
            </>
          )}
        </span>
        <a href={`/admin/experiments/${slug}/results/export${query({})}`} download>
          Download CSV
        </a>
        {env.POSTHOG_API_KEY && (
          <a href={posthogInsightUrl(env.POSTHOG_HOST, slug)} target="_blank" rel="noreferrer">
            Open in PostHog
          </a>
        )}
      </nav>

      <ResultsVerdict verdict={results.verdict} progress={results.progress} />

      <section className="card stack" aria-labelledby="lift-title">
        <h2 id="lift-title">Lift against control</h2>
        <ForestPlot metrics={results.analysis.metrics} alpha={results.analysis.intervalAlpha} />
      </section>

      <section className="card stack" aria-labelledby="metrics-title">
        <h2 id="metrics-title">Metrics</h2>
        <p className="hint">
          {results.analysis.sequential
            ? "Sequential testing (always-valid intervals)"
            : "Fixed-horizon testing"}
          {results.analysis.correction !== "none" &&
            `, ${results.analysis.correction === "holm" ? "Holm–Bonferroni" : "Benjamini–Hochberg"} correction across variants and goal metrics`}
          . Counting{" "}
          {results.analysis.population === "exposed"
            ? "subjects who saw their variant"
            : "every assigned subject"}
          {results.source === "rollups" ? "; read from the daily rollups (a large test)" : ""}. Computed{" "}
          {formatDate(results.computedAt)}.
        </p>
        {results.source === "rollups" && (
          <RollupFreshness slug={slug} refreshedAt={results.refreshedAt} computedAt={results.computedAt} />
        )}
        <ResultsTables metrics={results.analysis.metrics} />
      </section>

      <section className="card stack" aria-labelledby="over-time-title">
        <h2 id="over-time-title">Conversion over time</h2>
        <CumulativeChart series={results.series} variants={variants} metric={results.seriesMetric} />
      </section>

      <ResultsHealth analysis={results.analysis} slug={slug} />

      <section className="card stack" aria-labelledby="settings-title">
        <h2 id="settings-title">Analysis settings</h2>
        <AnalysisSettingsForm
          slug={slug}
          version={experiment.version}
          settings={experiment.config.analysis}
          conversionEvents={experiment.config.conversionEvents}
        />
      </section>

      <SampleSizeCalculator
        initial={{
          baseline: control?.value ? String(Math.round(control.value * 10000) / 100) : undefined,
          effect: String(Math.round(results.settings.minDetectableEffect * 1000) / 10),
          alpha: String(results.settings.alpha),
          power: String(Math.round(results.settings.power * 100)),
          variants: String(Math.max(2, variants.length)),
          traffic:
            results.progress.dailyTraffic > 0 ? String(Math.round(results.progress.dailyTraffic)) : undefined,
        }}
      />
    </div>
  );
}
