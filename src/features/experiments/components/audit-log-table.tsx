import { formatDate } from "./format";

type AuditEntry = {
  id: string;
  actorEmail: string | null;
  action: string;
  before: unknown;
  after: unknown;
  at: Date;
};

/** The fields that differ between two snapshots, flattened one level into the config. */
export function changedFields(
  before: unknown,
  after: unknown,
): { field: string; from: unknown; to: unknown }[] {
  const flatten = (value: unknown): Record<string, unknown> => {
    if (!value || typeof value !== "object") return {};
    const { config, ...rest } = value as { config?: Record<string, unknown> };
    return { ...rest, ...(config ?? {}) };
  };
  const left = flatten(before);
  const right = flatten(after);
  return [...new Set([...Object.keys(left), ...Object.keys(right)])]
    .filter((field) => JSON.stringify(left[field]) !== JSON.stringify(right[field]))
    .map((field) => ({ field, from: left[field], to: right[field] }));
}

const show = (value: unknown) => (value === undefined ? "—" : JSON.stringify(value));

/** Every change: who, when, what, and each field's value before and after. */
export function AuditLogTable({ entries }: { entries: AuditEntry[] }) {
  if (entries.length === 0) return <p className="muted">No changes recorded yet.</p>;
  return (
    <div className="table-wrap">
      <table data-testid="audit-log">
        <caption className="visually-hidden">Audit log</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Before → after</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const changes = changedFields(entry.before, entry.after);
            return (
              <tr key={entry.id}>
                <td>{formatDate(entry.at)}</td>
                <td>{entry.actorEmail ?? "system"}</td>
                <td>{entry.action}</td>
                <td>
                  {changes.length === 0 ? (
                    <span className="muted">no field changed</span>
                  ) : (
                    <pre className="diff">
                      {changes
                        .map((change) => `${change.field}: ${show(change.from)} → ${show(change.to)}`)
                        .join("\n")}
                    </pre>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
