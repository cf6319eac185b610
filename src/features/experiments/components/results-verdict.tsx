import type { Progress, Verdict } from "@/features/experiments/core/verdict";
import { percent } from "./results-format";

const TONE_LABEL: Record<Verdict["tone"], string> = {
  ship: "Ship it",
  wait: "Keep running",
  stop: "Stop",
  investigate: "Investigate",
  "no-data": "Not enough data",
};

const TONE_COLOUR: Record<Verdict["tone"], string> = {
  ship: "#00835c",
  wait: "#0072B2",
  stop: "#8a5a00",
  investigate: "#c0392b",
  "no-data": "#555555",
};

/** The plain-language verdict, red flags first, and the progress towards the planned sample. */
export function ResultsVerdict({ verdict, progress }: { verdict: Verdict; progress: Progress }) {
  return (
    <section
      className="card stack"
      aria-labelledby="verdict-title"
      data-testid="verdict"
      data-tone={verdict.tone}
      style={{ borderLeft: `6px solid ${TONE_COLOUR[verdict.tone]}` }}
    >
      <h2 id="verdict-title" style={{ margin: 0 }}>
        {TONE_LABEL[verdict.tone]}
      </h2>
      {verdict.redFlags.length > 0 && (
        <ul className="error" data-testid="red-flags" role="alert">
          {verdict.redFlags.map((flag) => (
            <li key={flag}>{flag}</li>
          ))}
        </ul>
      )}
      <p style={{ fontSize: "1.1em", margin: 0 }}>{verdict.headline}</p>
      {verdict.details.map((detail) => (
        <p key={detail} className="muted" style={{ margin: 0 }}>
          {detail}
        </p>
      ))}
      {progress.neededPerVariant !== null && (
        <div className="stack" style={{ gap: 4 }}>
          <label htmlFor="sample-progress">
            Planned sample: {progress.smallestArm.toLocaleString("en")} of{" "}
            {progress.neededPerVariant.toLocaleString("en")} per variant ({percent(progress.share, 0)}), after{" "}
            {progress.daysRunning.toFixed(1)} days
          </label>
          <progress id="sample-progress" max={1} value={progress.share ?? 0} style={{ width: "100%" }} />
        </div>
      )}
    </section>
  );
}
