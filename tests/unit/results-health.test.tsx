// @vitest-environment happy-dom
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { ResultsHealth } from "@/features/experiments/components/results-health";
import type { ResultsAnalysis } from "@/features/experiments/core/results";

/** The data-quality card as the results page shows it, from the analysis' own fields. */
function analysis(srm: { observed: number[]; chiSquare: number; pValue: number; mismatch: boolean }) {
  return {
    srm: { ...srm, expectedShare: [0.5, 0.5] },
    exposureLoss: {
      warning: null,
      differential: false,
      perVariant: [
        { variant: "control", assigned: srm.observed[0], exposed: srm.observed[0], missingShare: 0 },
        { variant: "treatment", assigned: srm.observed[1], exposed: srm.observed[1], missingShare: 0 },
      ],
    },
    flaggedSubjects: 0,
  } as unknown as ResultsAnalysis;
}

afterEach(cleanup);

describe("ResultsHealth", () => {
  it("raises the sample-ratio-mismatch banner, with its statistic, when the split is off", () => {
    render(
      <ResultsHealth
        slug="checkout-button-copy"
        analysis={analysis({ observed: [5_600, 4_400], chiSquare: 144, pValue: 3.5e-33, mismatch: true })}
      />,
    );
    const banner = screen.getByTestId("srm-banner");
    expect(banner.getAttribute("role")).toBe("alert");
    expect(banner.textContent).toContain("Sample ratio mismatch");
    expect(banner.textContent).toContain("χ² = 144.0");
    expect(screen.getByText("56.0%")).toBeTruthy();
  });

  it("says the split matches when it does, with no banner", () => {
    render(
      <ResultsHealth
        slug="checkout-button-copy"
        analysis={analysis({ observed: [5_010, 4_990], chiSquare: 0.04, pValue: 0.84, mismatch: false })}
      />,
    );
    expect(screen.queryByTestId("srm-banner")).toBeNull();
    expect(screen.getByTestId("results-health").textContent).toContain("matches the configured weights");
  });
});
