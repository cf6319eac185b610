import type { Metadata } from "next";
import { ExperimentCreateForm } from "@/features/experiments/components/experiment-create-form";
import { requireAdminPage } from "@/server/auth/session";

export const metadata: Metadata = { title: "New experiment" };
export const dynamic = "force-dynamic";

export default async function NewExperimentPage() {
  await requireAdminPage("/admin/experiments/new");
  return (
    <div className="stack">
      <h1>New experiment</h1>
      <p className="muted">
        It starts as a draft: nothing is served until you start it. Variants and weights can change freely
        until then.
      </p>
      <ExperimentCreateForm />
    </div>
  );
}
