import type { Metadata } from "next";
import Link from "next/link";
import { formatDate } from "@/features/experiments/components/format";
import { subjectLookupSchema } from "@/features/experiments/core/admin-inputs";
import { getExperimentServices } from "@/features/experiments/server/services";
import { requireAdminPage } from "@/server/auth/session";

export const metadata: Metadata = { title: "Subject lookup" };
export const dynamic = "force-dynamic";

type SearchParams = Promise<{ kind?: string; id?: string }>;

/** "What did this customer see?": every experiment a user, team or visitor is in. */
export default async function SubjectLookupPage({ searchParams }: { searchParams: SearchParams }) {
  await requireAdminPage("/admin/experiments/subjects");
  const params = await searchParams;
  const asked = params.id !== undefined;
  const lookup = subjectLookupSchema.safeParse({ kind: params.kind ?? "user", id: params.id?.trim() });
  const assignments =
    asked && lookup.success ? await getExperimentServices().admin.subjectAssignments(lookup.data) : [];

  return (
    <div className="stack">
      <h1>Subject lookup</h1>
      <p className="muted">
        Every experiment a user, team or visitor is in: variant, phase, when assigned and first exposed.
      </p>
      <form method="get" className="card row" aria-label="Find a subject">
        <div>
          <label htmlFor="kind">Kind</label>
          <select
            id="kind"
            name="kind"
            defaultValue={lookup.success ? lookup.data.kind : (params.kind ?? "user")}
          >
            <option value="user">User id</option>
            <option value="team">Team id</option>
            <option value="visitor">Visitor id</option>
          </select>
        </div>
        <div className="grow">
          <label htmlFor="id">Id</label>
          <input id="id" name="id" defaultValue={params.id ?? ""} autoComplete="off" required />
        </div>
        <button type="submit">Look up</button>
      </form>

      {asked && !lookup.success && (
        <p className="field-error" role="alert">
          {lookup.error.issues.map((issue) => issue.message).join(" ")}
        </p>
      )}
      {asked && lookup.success && assignments.length === 0 && (
        <p className="card" data-testid="subject-empty">
          No assignments for {lookup.data.kind} <code>{lookup.data.id}</code>.
        </p>
      )}
      {assignments.length > 0 && (
        <div className="table-wrap">
          <table data-testid="subject-assignments">
            <caption className="visually-hidden">Assignments</caption>
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Variant</th>
                <th scope="col">Phase</th>
                <th scope="col">How</th>
                <th scope="col">Assigned</th>
                <th scope="col">First exposed</th>
                <th scope="col">Exposure events</th>
              </tr>
            </thead>
            <tbody>
              {assignments.map((assignment) => (
                <tr key={`${assignment.experimentSlug}:${assignment.phase}`}>
                  <td>
                    <Link href={`/admin/experiments/${assignment.experimentSlug}`}>
                      {assignment.experimentSlug}
                    </Link>
                  </td>
                  <td>
                    <strong>{assignment.variant}</strong>
                  </td>
                  <td>{assignment.phase}</td>
                  <td>
                    {assignment.assignmentType.toLowerCase()}
                    {assignment.origin !== "ASSIGNED" &&
                      `, ${assignment.origin.toLowerCase().replaceAll("_", " ")}`}
                  </td>
                  <td>{formatDate(assignment.assignedAt)}</td>
                  <td>{formatDate(assignment.firstExposedAt)}</td>
                  <td data-testid={`exposures-${assignment.experimentSlug}`}>{assignment.exposureEvents}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
