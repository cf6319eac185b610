import type { Metadata } from "next";
import Link from "next/link";
import { formatDate, formatSplit } from "@/features/experiments/components/format";
import { StatusBadge } from "@/features/experiments/components/status-badge";
import { experimentStatusSchema } from "@/features/experiments/core/config";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";

export const metadata: Metadata = { title: "Experiments" };
export const dynamic = "force-dynamic";

type SearchParams = Promise<{ status?: string; q?: string }>;

export default async function ExperimentsPage({ searchParams }: { searchParams: SearchParams }) {
  await requireAdminPage("/admin/experiments");
  const params = await searchParams;
  const status = experimentStatusSchema.safeParse(params.status).data;
  const search = params.q?.trim().slice(0, 100) || undefined;
  const experiments = await getExperimentServices().admin.list({ status, search });
  const filtered = Boolean(status || search);

  return (
    <div className="stack">
      <div className="row">
        <h1 className="grow">Experiments</h1>
        <Link href="/admin/experiments/new" className="button">
          New experiment
        </Link>
      </div>

      <form method="get" className="row card" aria-label="Filter experiments">
        <div className="grow">
          <label htmlFor="q">Search</label>
          <input
            id="q"
            name="q"
            type="search"
            defaultValue={search ?? ""}
            placeholder="slug or description"
          />
        </div>
        <div>
          <label htmlFor="status">Status</label>
          <select id="status" name="status" defaultValue={status ?? ""}>
            <option value="">All</option>
            <option value="draft">Draft</option>
            <option value="running">Running</option>
            <option value="paused">Paused</option>
            <option value="concluded">Concluded</option>
          </select>
        </div>
        <button type="submit">Filter</button>
        {filtered && <Link href="/admin/experiments">Clear</Link>}
      </form>

      {experiments.length === 0 ? (
        <div className="card" data-testid="experiments-empty">
          {filtered ? (
            <p>No experiment matches this filter.</p>
          ) : (
            <>
              <p>
                <strong>No experiments yet.</strong> An experiment splits users, teams or visitors between
                variants and measures which one wins.
              </p>
              <Link href="/admin/experiments/new">Create the first experiment</Link>
            </>
          )}
        </div>
      ) : (
        <div className="table-wrap">
          <table data-testid="experiment-list">
            <caption className="visually-hidden">Experiments</caption>
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Status</th>
                <th scope="col">Scope</th>
                <th scope="col">Assignment</th>
                <th scope="col">Variants</th>
                <th scope="col">Participants</th>
                <th scope="col">Started</th>
                <th scope="col">Ended</th>
              </tr>
            </thead>
            <tbody>
              {experiments.map((experiment) => (
                <tr key={experiment.slug} data-slug={experiment.slug}>
                  <td>
                    <Link href={`/admin/experiments/${experiment.slug}`}>
                      <strong>{experiment.slug}</strong>
                    </Link>
                    {experiment.description && <div className="muted">{experiment.description}</div>}
                    {experiment.brokenConfig && <div className="field-error">{experiment.brokenConfig}</div>}
                  </td>
                  <td>
                    <StatusBadge
                      status={experiment.config.status}
                      broken={Boolean(experiment.brokenConfig)}
                    />
                  </td>
                  <td>{experiment.config.scope}</td>
                  <td>{experiment.config.assignmentType}</td>
                  <td>{formatSplit(experiment.config.variants)}</td>
                  <td>{experiment.participants.toLocaleString("en")}</td>
                  <td>{formatDate(experiment.config.startedAt)}</td>
                  <td>{formatDate(experiment.config.endedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
