import type { Metadata } from "next";
import { ConvertFlagButton } from "@/features/experiments/components/convert-flag-button";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";

export const metadata: Metadata = { title: "Convert a flag" };
export const dynamic = "force-dynamic";

/** The migration helper: a feature flag becomes a control/treatment experiment. */
export default async function FlagsPage() {
  await requireAdminPage("/admin/experiments/flags");
  const flags = await getExperimentServices().admin.listFlags();
  return (
    <div className="stack">
      <h1>Convert a flag into an experiment</h1>
      <p className="muted">
        Users (or teams) who had the flag on are assigned <code>treatment</code>, those who had it explicitly
        off <code>control</code>, so nobody's experience changes. Everyone else is split 50/50 from then on.
        The experiment starts running at once.
      </p>
      {flags.length === 0 ? (
        <p className="card" data-testid="flags-empty">
          There are no feature flags to convert.
        </p>
      ) : (
        <div className="table-wrap">
          <table data-testid="flag-list">
            <caption className="visually-hidden">Feature flags</caption>
            <thead>
              <tr>
                <th scope="col">Flag</th>
                <th scope="col">Globally</th>
                <th scope="col">Per-user / per-team states</th>
                <th scope="col">Convert</th>
              </tr>
            </thead>
            <tbody>
              {flags.map((flag) => (
                <tr key={flag.slug}>
                  <td>
                    <strong>{flag.slug}</strong>
                    {flag.description && <div className="muted">{flag.description}</div>}
                  </td>
                  <td>{flag.enabled ? "on" : "off"}</td>
                  <td>
                    {flag._count.userStates} / {flag._count.teamStates}
                  </td>
                  <td>
                    <ConvertFlagButton flagSlug={flag.slug} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
