import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { StatusBadge } from "@/features/experiments/components/status-badge";
import { TargetingEditor } from "@/features/experiments/components/targeting-editor";
import { experimentSlugSchema } from "@/features/experiments/core/config";
import { ExperimentError } from "@/features/experiments/server/errors";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";

export const dynamic = "force-dynamic";
type Params = Promise<{ slug: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  return { title: `Targeting · ${(await params).slug}` };
}

export default async function TargetingPage({ params }: { params: Params }) {
  const { slug } = await params;
  await requireAdminPage(`/admin/experiments/${slug}/targeting`);
  if (!experimentSlugSchema.safeParse(slug).success) notFound();
  const experiment = await getExperimentServices()
    .admin.get(slug)
    .catch((error: unknown) => {
      if (error instanceof ExperimentError && error.code === "EXPERIMENT_NOT_FOUND") notFound();
      throw error;
    });
  return (
    <div className="stack">
      <p>
        <Link href={`/admin/experiments/${slug}`}>← {slug}</Link>
      </p>
      <div className="row">
        <h1 className="grow">Targeting</h1>
        <StatusBadge status={experiment.config.status} />
      </div>
      <p className="muted">
        Every rule must match (AND). Targeting is checked before anyone is assigned: a subject who does not
        match gets the default and no assignment. Changing targeting never moves subjects already assigned.
      </p>
      <TargetingEditor slug={slug} version={experiment.version} rules={experiment.config.targetingRules} />
    </div>
  );
}
