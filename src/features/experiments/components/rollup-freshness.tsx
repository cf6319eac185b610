"use client";

import { useRouter } from "next/navigation";
import { api } from "@/trpc/react";
import { serverErrors } from "./form-errors";
import { formatDate } from "./format";
import { describeAge } from "./results-format";

/**
 * A large test's results come from rollups the app refreshes every few minutes: this says how old
 * they are and refreshes them on demand, as a results page's "Update" does in GrowthBook.
 */
export function RollupFreshness({
  slug,
  refreshedAt,
  computedAt,
}: {
  slug: string;
  refreshedAt: string | null;
  computedAt: string;
}) {
  const router = useRouter();
  const refresh = api.admin.experiments.refreshResults.useMutation({
    onSuccess: (outcome) => {
      if (outcome.refreshed) router.refresh();
    },
  });
  const error = serverErrors(refresh.error).message;
  return (
    <div className="row" style={{ flexWrap: "wrap", gap: 12 }}>
      <p className="hint grow" data-testid="rollup-freshness">
        {refreshedAt
          ? `Figures from the rollups as of ${formatDate(refreshedAt)} (${describeAge(refreshedAt, computedAt)} old when computed); they refresh every few minutes.`
          : "When these rollups were last refreshed is not recorded yet; they refresh every few minutes."}
      </p>
      <button type="button" disabled={refresh.isPending} onClick={() => refresh.mutate({ slug })}>
        {refresh.isPending ? "Refreshing…" : "Refresh now"}
      </button>
      {refresh.data && !refresh.data.refreshed && (
        <p role="status">A refresh is already running; reload the page in a moment to see its figures.</p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
