import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { AssignmentChart } from "@/features/experiments/components/assignment-chart";
import { AuditLogTable } from "@/features/experiments/components/audit-log-table";
import { DeleteExperiment } from "@/features/experiments/components/delete-experiment";
import { ExperimentEditForm } from "@/features/experiments/components/experiment-edit-form";
import { formatDate, formatPercent } from "@/features/experiments/components/format";
import { LifecycleControls } from "@/features/experiments/components/lifecycle-controls";
import { StatusBadge } from "@/features/experiments/components/status-badge";
import { describeTargeting } from "@/features/experiments/components/targeting-summary";
import { experimentSlugSchema } from "@/features/experiments/core/config";
import { ExperimentError } from "@/features/experiments/server/errors";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";

export const dynamic = "force-dynamic";
type Params = Promise<{ slug: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  return { title: (await params).slug };
}

export default async function ExperimentPage({ params }: { params: Params }) {
  const { slug } = await params;
  await requireAdminPage(`/admin/experiments/${slug}`);
  if (!experimentSlugSchema.safeParse(slug).success) notFound();
  const services = getExperimentServices();
  const experiment = await services.admin.get(slug).catch((error: unknown) => {
    if (error instanceof ExperimentError && error.code === "EXPERIMENT_NOT_FOUND") notFound();
    throw error;
  });
  const [stats, audit] = await Promise.all([services.admin.stats(slug), services.admin.auditLog(slug, 50)]);
  const { config } = experiment;
  const configured = Object.fromEntries(config.variants.map((variant) => [variant.name, variant.percentage]));

  return (
    <div className="stack">
      <p>
        <Link href="/admin/experiments">← All experiments</Link>
      </p>
      <div className="row">
        <h1 className="grow" style={{ wordBreak: "break-word" }}>
          {experiment.slug}
        </h1>
        <StatusBadge status={config.status} />
      </div>
      {experiment.description && <p>{experiment.description}</p>}
      <p>
        <Link className="button" href={`/admin/experiments/${slug}/results`} data-testid="results-link">
          View results →
        </Link>
      </p>

      <section className="card stack" aria-labelledby="lifecycle-title">
        <h2 id="lifecycle-title">Lifecycle</h2>
        <LifecycleControls
          slug={slug}
          status={config.status}
          version={experiment.version}
          variants={config.variants.map((variant) => variant.name)}
          winner={config.winnerVariant}
        />
      </section>

      <section className="card" aria-labelledby="overview-title">
        <h2 id="overview-title">Overview</h2>
        <dl className="facts">
          <dt>Scope</dt>
          <dd>{config.scope}</dd>
          <dt>Assignment</dt>
          <dd>
            {config.assignmentType}, hashing {config.hashing}
          </dd>
          <dt>Variants</dt>
          <dd>
            {config.variants.map((variant) => (
              <div key={variant.name}>
                <strong>{variant.name}</strong> {formatPercent(variant.percentage)}
                {variant.description && <span className="muted"> — {variant.description}</span>}
              </div>
            ))}
          </dd>
          <dt>Traffic</dt>
          <dd>{formatPercent(config.trafficPercent)}</dd>
          <dt>Targeting</dt>
          <dd>
            {describeTargeting(config.targetingRules)}{" "}
            <Link href={`/admin/experiments/${slug}/targeting`}>Edit targeting</Link>
          </dd>
          <dt>Phase</dt>
          <dd>{config.phase}</dd>
          <dt>Winner</dt>
          <dd data-testid="winner">{config.winnerVariant ?? "—"}</dd>
          <dt>Conversion events</dt>
          <dd>{config.conversionEvents.length ? config.conversionEvents.join(", ") : "—"}</dd>
          <dt>Started</dt>
          <dd>{formatDate(config.startedAt)}</dd>
          <dt>Paused</dt>
          <dd>{formatDate(config.pausedAt)}</dd>
          <dt>Ended</dt>
          <dd>{formatDate(config.endedAt)}</dd>
          <dt>Version</dt>
          <dd>{experiment.version}</dd>
        </dl>
      </section>

      <section className="card" aria-labelledby="assignments-title">
        <h2 id="assignments-title" className="visually-hidden">
          Assignments
        </h2>
        <AssignmentChart
          phase={stats.phase}
          total={stats.total}
          variants={stats.variants}
          configured={configured}
        />
      </section>

      <section className="card stack" aria-labelledby="edit-title">
        <h2 id="edit-title">Edit</h2>
        <ExperimentEditForm
          slug={slug}
          description={experiment.description}
          version={experiment.version}
          config={config}
        />
      </section>

      <section className="card stack" aria-labelledby="audit-title">
        <h2 id="audit-title">Audit log</h2>
        <AuditLogTable entries={audit} />
      </section>

      <section className="card stack" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete</h2>
        <DeleteExperiment slug={slug} version={experiment.version} />
      </section>
    </div>
  );
}
