import Link from "next/link";
import type { ResultsAnalysis } from "@/features/experiments/core/results";
import { percent, pValue } from "./results-format";

/** Data quality: the split against its weights, exposures against assignments, flagged subjects. */
export function ResultsHealth({ analysis, slug }: { analysis: ResultsAnalysis; slug: string }) {
  const { srm, exposureLoss } = analysis;
  const total = srm.observed.reduce((sum, n) => sum + n, 0);
  return (
    <section className="card stack" aria-labelledby="health-title" data-testid="results-health">
      <h2 id="health-title">Data quality</h2>
      {srm.mismatch ? (
        <p className="error" role="alert" data-testid="srm-banner">
          Sample ratio mismatch: the split differs from the configured weights (χ² ={" "}
          {srm.chiSquare.toFixed(1)}, p = {pValue(srm.pValue)}). Look for targeting changes mid-test,
          redirects that drop one arm, or bots.
        </p>
      ) : (
        <p className="ok-text">
          The split matches the configured weights (p = {pValue(srm.pValue)}, mismatch below 0.001).
        </p>
      )}
      {exposureLoss.warning && (
        <p className={exposureLoss.differential ? "error" : "muted"} data-testid="exposure-warning">
          {exposureLoss.warning}
        </p>
      )}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Variant</th>
              <th scope="col">Expected share</th>
              <th scope="col">Observed share</th>
              <th scope="col">Assigned</th>
              <th scope="col">Exposed</th>
              <th scope="col">No exposure recorded</th>
            </tr>
          </thead>
          <tbody>
            {exposureLoss.perVariant.map((entry, index) => (
              <tr key={entry.variant}>
                <th scope="row">{entry.variant}</th>
                <td>{percent(srm.expectedShare[index], 1)}</td>
                <td>{total ? percent((srm.observed[index] ?? 0) / total, 1) : "—"}</td>
                <td>{entry.assigned.toLocaleString("en")}</td>
                <td>{entry.exposed.toLocaleString("en")}</td>
                <td>{percent(entry.missingShare, 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className={analysis.flaggedSubjects ? "error" : "muted"} data-testid="flagged-subjects">
        {analysis.flaggedSubjects
          ? `${analysis.flaggedSubjects.toLocaleString("en")} subjects were seen in a variant other than their own; look them up under `
          : "No subject was seen in two variants. "}
        {analysis.flaggedSubjects > 0 && <Link href="/admin/experiments/subjects">Subjects</Link>}
        {analysis.flaggedSubjects > 0 && ` (experiment ${slug}).`}
      </p>
    </section>
  );
}
