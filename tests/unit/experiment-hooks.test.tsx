// @vitest-environment happy-dom
import { act, cleanup, render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBrowserTracker, type ExperimentTracker } from "@/features/experiments/client/tracker";
import {
  ExperimentProvider,
  useCartAttributes,
  useExperiment,
  useExperimentVariant,
  useVisitorExperiment,
} from "@/features/experiments/hooks";
import type { RequestAssignments, ServedAssignment } from "@/features/experiments/server/request-assignments";
import { served } from "./served-assignment";

// The hooks import the app's tRPC React client for explicit-id lookups; these tests use the provider.
vi.mock("@/trpc/react", () => ({
  api: { experiments: { getVariant: { useQuery: () => ({ data: undefined, isLoading: false }) } } },
}));

const VISITOR = "0b6f5f3e-8a47-4d0c-9d7e-5d1b7f0c2a11";

function answer(assignments: ServedAssignment[]): RequestAssignments {
  return {
    identity: { userId: null, teamId: null, visitorId: VISITOR },
    assignments: Object.fromEntries(assignments.map((entry) => [entry.slug, entry])),
  };
}

function Hero({ slug = "landing-hero" }: { slug?: string }) {
  const { variant, isLoading, isControl } = useExperiment(slug);
  return (
    <p data-testid="hero" data-variant={variant ?? "none"}>
      {isLoading ? "loading" : `${variant ?? "default"}${isControl ? " (control)" : ""}`}
    </p>
  );
}

function VariantName({ slug }: { slug: string }) {
  return <span data-testid="name">{useExperimentVariant(slug)}</span>;
}

function VisitorHero() {
  return <span data-testid="visitor">{useVisitorExperiment("landing-hero").variant}</span>;
}

function recordingTracker() {
  const exposures: string[] = [];
  const tracker: ExperimentTracker = {
    exposure: ({ slug, variant }) => exposures.push(`${slug}=${variant}`),
    conversion: () => {},
    flush: async () => {},
  };
  return { tracker, exposures };
}

beforeEach(() => window.localStorage.clear());
afterEach(cleanup);

describe("useExperiment with server-resolved assignments", () => {
  it("renders the variant at once (no loading state) and records one exposure after rendering", () => {
    const { tracker, exposures } = recordingTracker();
    const wrap = (node: ReactNode) => (
      <ExperimentProvider initial={answer([served("landing-hero", "treatment")])} tracker={tracker}>
        {node}
      </ExperimentProvider>
    );
    const { rerender } = render(wrap(<Hero />));
    expect(screen.getByTestId("hero").textContent).toBe("treatment");
    rerender(wrap(<Hero />));
    rerender(wrap(<Hero />));
    expect(exposures).toEqual(["landing-hero=treatment"]);
  });

  it("records nothing for no variant, a forced preview or a concluded test", () => {
    const { tracker, exposures } = recordingTracker();
    render(
      <ExperimentProvider
        initial={answer([
          served("off-test", null, "not-running"),
          served("forced-test", "treatment", "forced"),
          served("done-test", "treatment", "concluded"),
        ])}
        tracker={tracker}
      >
        <Hero slug="off-test" />
        <VariantName slug="forced-test" />
        <Hero slug="done-test" />
      </ExperimentProvider>,
    );
    expect(screen.getAllByTestId("hero")[0]?.textContent).toBe("default");
    expect(screen.getByTestId("name").textContent).toBe("treatment");
    expect(exposures).toEqual([]);
  });

  it("useExperimentVariant says control until the variant is known; useVisitorExperiment reads the provider", async () => {
    let resolve: (value: RequestAssignments) => void = () => {};
    const fetcher = () => new Promise<RequestAssignments>((done) => (resolve = done));
    const { tracker } = recordingTracker();
    render(
      <ExperimentProvider fetcher={fetcher} tracker={tracker}>
        <VariantName slug="landing-hero" />
        <Hero />
        <VisitorHero />
      </ExperimentProvider>,
    );
    expect(screen.getByTestId("name").textContent).toBe("control");
    expect(screen.getByTestId("hero").textContent).toBe("loading");
    await act(async () => resolve(answer([served("landing-hero", "treatment")])));
    expect(screen.getByTestId("name").textContent).toBe("treatment");
    expect(screen.getByTestId("visitor").textContent).toBe("treatment");
  });

  it("renders a cached answer at once on a later visit, then the server's", async () => {
    // biome-ignore lint/suspicious/noDocumentCookie: sets up the cookie a returning visitor has
    document.cookie = `verdict_vid=${VISITOR}; path=/`;
    window.localStorage.setItem(
      `verdict:assignments:v1:visitor:${VISITOR}`,
      JSON.stringify({
        savedAt: Date.now(),
        assignments: { "landing-hero": served("landing-hero", "treatment") },
      }),
    );
    let resolve: (value: RequestAssignments) => void = () => {};
    const fetcher = () => new Promise<RequestAssignments>((done) => (resolve = done));
    render(
      <ExperimentProvider fetcher={fetcher} tracker={recordingTracker().tracker}>
        <Hero />
      </ExperimentProvider>,
    );
    await act(async () => {});
    expect(screen.getByTestId("hero").textContent).toBe("treatment");
    await act(async () => resolve(answer([served("landing-hero", "control", "concluded")])));
    expect(screen.getByTestId("hero").textContent).toBe("control (control)");
    // A concluded test is not remembered.
    const stored = JSON.parse(
      window.localStorage.getItem(`verdict:assignments:v1:visitor:${VISITOR}`) ?? "{}",
    );
    expect(stored.assignments).toEqual({});
  });

  it("explains a missing provider", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => render(<Hero />)).toThrow("Experiment hooks need an <ExperimentProvider> above them");
  });
});

describe("the browser tracker", () => {
  it("sends one exposure per subject, experiment and phase, across remounts and page loads", async () => {
    const sent: unknown[][] = [];
    const send = async (events: unknown[]) => {
      sent.push(events);
    };
    const first = createBrowserTracker({ send });
    const mount = () =>
      render(
        <ExperimentProvider initial={answer([served("landing-hero", "treatment")])} tracker={first}>
          <Hero />
        </ExperimentProvider>,
      );
    mount().unmount();
    mount().unmount();
    // A reload is a new tracker reading the same localStorage.
    createBrowserTracker({ send }).exposure({
      slug: "landing-hero",
      variant: "treatment",
      phase: 1,
      subjectKey: `visitor:${VISITOR}`,
    });
    await first.flush();
    expect(sent.flat()).toEqual([
      expect.objectContaining({ type: "exposure", slug: "landing-hero", variant: "treatment" }),
    ]);
  });

  it("batches conversions, each with its own idempotency key, and keeps a failed batch for the next flush", async () => {
    let fail = true;
    const sent: { idempotencyKey?: string }[][] = [];
    const tracker = createBrowserTracker({
      send: async (events) => {
        if (fail) throw new Error("offline");
        sent.push(events as { idempotencyKey?: string }[]);
      },
    });
    tracker.conversion("landing-hero", "cta_click");
    tracker.conversion("landing-hero", "cta_click", { placement: "hero" });
    await tracker.flush();
    expect(sent).toEqual([]);
    fail = false;
    await tracker.flush();
    expect(sent).toHaveLength(1);
    const keys = sent[0]?.map((event) => event.idempotencyKey);
    expect(new Set(keys).size).toBe(2);
  });
});

let readCartAttributes: (() => { name: string; value: string }[]) | null = null;

function CartAttributesProbe() {
  readCartAttributes = useCartAttributes();
  return null;
}

describe("useCartAttributes", () => {
  it("lists the visitor, the session and every real assignment, never a forced preview", () => {
    readCartAttributes = null;
    render(
      <ExperimentProvider
        initial={answer([
          served("landing-hero", "treatment", "sticky"),
          served("pricing-page", "annual-first", "assigned"),
          served("qa-test", "treatment", "forced"),
          served("off-test", null, "not-running"),
        ])}
        tracker={recordingTracker().tracker}
      >
        <CartAttributesProbe />
      </ExperimentProvider>,
    );
    const attributes = Object.fromEntries(
      (readCartAttributes as unknown as () => { name: string; value: string }[])().map((a) => [
        a.name,
        a.value,
      ]),
    );
    expect(attributes).toMatchObject({
      verdict_visitor_id: VISITOR,
      "exp_landing-hero": "treatment",
      "exp_pricing-page": "annual-first",
    });
    expect(attributes.verdict_session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(attributes).not.toHaveProperty("exp_qa-test");
    expect(attributes).not.toHaveProperty("exp_off-test");
  });
});
