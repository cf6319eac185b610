import type { ExperimentStatus } from "@/features/experiments/core/config";

const LABELS: Record<ExperimentStatus, string> = {
  draft: "Draft",
  running: "Running",
  paused: "Paused",
  concluded: "Concluded",
};

export function StatusBadge({ status, broken = false }: { status: ExperimentStatus; broken?: boolean }) {
  if (broken) return <span className="badge badge-broken">Invalid config</span>;
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {LABELS[status]}
    </span>
  );
}
