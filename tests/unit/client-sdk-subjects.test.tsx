// @vitest-environment happy-dom
import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createBrowserTracker, type ExperimentTracker } from "@/features/experiments/client/tracker";
import { visitorCookieString } from "@/features/experiments/core/visitor";
import {
  ExperimentProvider,
  getOrCreateVisitorId,
  type TrackedSubject,
  useExperiment,
} from "@/features/experiments/hooks";
import type { RequestAssignments, ServedAssignment } from "@/features/experiments/server/request-assignments";
import { served as servedAssignment } from "./served-assignment";

/** What the mocked `experiments.getVariant` query answers, and every input it was asked with. */
const query = vi.hoisted(() => ({
  answer: undefined as unknown,
  inputs: [] as unknown[],
}));

vi.mock("@/trpc/react", async () => {
  const { skipToken } = await import("@tanstack/react-query");
  return {
    api: {
      experiments: {
        getVariant: {
          useQuery: (input: unknown) => {
            if (input === skipToken) return { data: undefined, isLoading: false };
            query.inputs.push(input);
            return { data: query.answer, isLoading: query.answer === undefined };
          },
        },
      },
    },
  };
});

const VISITOR = "7d3c2b1a-0f9e-4d8c-b7a6-958473625140";
const OTHER_VISITOR = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
const USER = "0d9b3c2a-7f41-4e8a-b6c5-1a2b3c4d5e6f";
const TEAM = "00000000-0000-4000-8000-00000000beef";

const served = (slug: string, variant: string | null, reason: ServedAssignment["reason"]) =>
  servedAssignment(slug, variant, reason, { phase: 2, version: 7 });

type Exposure = { slug: string; variant: string; subjectKey: string; subject?: TrackedSubject };

function recordingTracker() {
  const exposures: Exposure[] = [];
  const tracker: ExperimentTracker = {
    exposure: ({ slug, variant, subjectKey, subject }) =>
      exposures.push({ slug, variant, subjectKey, subject }),
    conversion: () => {},
    flush: async () => {},
  };
  return { tracker, exposures };
}

const visitorAnswer: RequestAssignments = {
  identity: { userId: null, teamId: null, visitorId: VISITOR },
  assignments: {},
};

function TeamLayout({ teamId, skip }: { teamId: string; skip?: boolean }) {
  const { variant, isLoading, isNewAssignment } = useExperiment("team-dashboard-layout", { teamId, skip });
  return (
    <p data-testid="layout">
      {isLoading ? "loading" : `${variant ?? "default"}${isNewAssignment ? " (new)" : ""}`}
    </p>
  );
}

beforeEach(() => {
  window.localStorage.clear();
  query.answer = undefined;
  query.inputs = [];
});
afterEach(cleanup);

describe("useExperiment with explicit ids", () => {
  it("asks for the named team, and credits the exposure to that team, not to the cookie's visitor", async () => {
    query.answer = served("team-dashboard-layout", "sidebar", "assigned");
    const { tracker, exposures } = recordingTracker();
    render(
      <ExperimentProvider initial={visitorAnswer} tracker={tracker}>
        <TeamLayout teamId={TEAM} />
      </ExperimentProvider>,
    );
    expect(screen.getByTestId("layout").textContent).toBe("sidebar (new)");
    expect(query.inputs[0]).toEqual({
      slug: "team-dashboard-layout",
      teamId: TEAM,
      userId: undefined,
      visitorId: undefined,
    });
    expect(exposures).toEqual([
      {
        slug: "team-dashboard-layout",
        variant: "sidebar",
        subjectKey: `team:${TEAM}`,
        subject: { teamId: TEAM, userId: undefined, visitorId: undefined },
      },
    ]);
  });

  it("is loading until the server answers, and records nothing meanwhile", () => {
    const { tracker, exposures } = recordingTracker();
    render(
      <ExperimentProvider initial={visitorAnswer} tracker={tracker}>
        <TeamLayout teamId={TEAM} />
      </ExperimentProvider>,
    );
    expect(screen.getByTestId("layout").textContent).toBe("loading");
    expect(exposures).toEqual([]);
  });

  it("with skip asks nothing, shows the default and records nothing", () => {
    query.answer = served("team-dashboard-layout", "sidebar", "sticky");
    const { tracker, exposures } = recordingTracker();
    render(
      <ExperimentProvider initial={visitorAnswer} tracker={tracker}>
        <TeamLayout teamId={TEAM} skip />
      </ExperimentProvider>,
    );
    expect(screen.getByTestId("layout").textContent).toBe("default");
    expect(query.inputs).toEqual([]);
    expect(exposures).toEqual([]);
  });

  it("works without a provider when ids are explicit (the page-wide tracker records the exposure)", async () => {
    query.answer = served("team-dashboard-layout", "grid", "sticky");
    render(<TeamLayout teamId={TEAM} />);
    expect(screen.getByTestId("layout").textContent).toBe("grid");
  });
});

describe("the browser tracker's batches", () => {
  it("sends explicit subjects with their events, and only in batches the server accepts (50 at most)", async () => {
    const sent: { subject?: TrackedSubject }[][] = [];
    const tracker = createBrowserTracker({
      send: async (events) => {
        sent.push(events as { subject?: TrackedSubject }[]);
      },
    });
    for (let index = 0; index < 120; index++) {
      tracker.conversion("pricing-page", "begin_checkout", { index }, { subject: { userId: USER } });
    }
    await tracker.flush();
    expect(sent.map((batch) => batch.length)).toEqual([20, 20, 20, 20, 20, 20]);
    expect(sent.flat().every((event) => event.subject?.userId === USER)).toBe(true);

    // A backlog (after an outage) still goes out in batches of at most 50.
    sent.length = 0;
    let offline = true;
    const backlog = createBrowserTracker({
      send: async (events) => {
        if (offline) throw Object.assign(new Error("offline"), { data: { httpStatus: 503 } });
        sent.push(events as { subject?: TrackedSubject }[]);
      },
    });
    for (let index = 0; index < 19; index++) backlog.conversion("pricing-page", "begin_checkout");
    for (let round = 0; round < 6; round++) {
      for (let index = 0; index < 19; index++) backlog.conversion("pricing-page", "begin_checkout");
      await backlog.flush();
    }
    offline = false;
    await backlog.flush();
    expect(sent.every((batch) => batch.length <= 50)).toBe(true);
    expect(sent.flat()).toHaveLength(133);
  });

  it("drops a batch the server refuses for good (400) instead of blocking the queue behind it", async () => {
    const sent: number[] = [];
    let refuse = true;
    const tracker = createBrowserTracker({
      send: async (events) => {
        if (refuse) throw Object.assign(new Error("bad"), { data: { httpStatus: 400 } });
        sent.push(events.length);
      },
    });
    tracker.conversion("landing-hero", "cta_click");
    await tracker.flush();
    refuse = false;
    tracker.conversion("landing-hero", "cta_click");
    await tracker.flush();
    expect(sent).toEqual([1]);
  });

  it("keeps a rate-limited batch (429) for the next flush", async () => {
    const sent: number[] = [];
    let limited = true;
    const tracker = createBrowserTracker({
      send: async (events) => {
        if (limited) throw Object.assign(new Error("slow down"), { data: { httpStatus: 429 } });
        sent.push(events.length);
      },
    });
    tracker.conversion("landing-hero", "cta_click");
    await tracker.flush();
    limited = false;
    await tracker.flush();
    expect(sent).toEqual([1]);
  });
});

function Pricing() {
  const { variant } = useExperiment("pricing-page");
  return <p data-testid="pricing">{variant ?? "default"}</p>;
}

describe("the assignment cache", () => {
  it("renders a signed-in user's last answer at once on a page without server data, then the fresh one", async () => {
    // biome-ignore lint/suspicious/noDocumentCookie: the cookie a returning visitor has
    document.cookie = `verdict_vid=${VISITOR}; path=/`;
    const first: RequestAssignments = {
      identity: { userId: USER, teamId: null, visitorId: VISITOR },
      assignments: { "pricing-page": served("pricing-page", "annual-first", "sticky") },
    };
    // A server-rendered page stores what it was given.
    render(
      <ExperimentProvider initial={first} tracker={recordingTracker().tracker}>
        <Pricing />
      </ExperimentProvider>,
    ).unmount();

    let resolve: (value: RequestAssignments) => void = () => {};
    const fetcher = () => new Promise<RequestAssignments>((done) => (resolve = done));
    render(
      <ExperimentProvider fetcher={fetcher} tracker={recordingTracker().tracker}>
        <Pricing />
      </ExperimentProvider>,
    );
    // Applied before paint: the first frame the user sees already has the cached variant.
    expect(screen.getByTestId("pricing").textContent).toBe("annual-first");
    await act(async () =>
      resolve({
        identity: first.identity,
        assignments: { "pricing-page": served("pricing-page", "monthly-first", "sticky") },
      }),
    );
    expect(screen.getByTestId("pricing").textContent).toBe("monthly-first");
  });

  it("does not show another visitor's cached answer to this browser's visitor", async () => {
    // biome-ignore lint/suspicious/noDocumentCookie: the cookie of this browser's visitor
    document.cookie = `verdict_vid=${VISITOR}; path=/`;
    window.localStorage.setItem(`verdict:assignments:v1:last-subject`, `visitor:${OTHER_VISITOR}`);
    window.localStorage.setItem(
      `verdict:assignments:v1:visitor:${OTHER_VISITOR}`,
      JSON.stringify({
        savedAt: Date.now(),
        assignments: { "pricing-page": served("pricing-page", "annual-first", "sticky") },
      }),
    );
    render(
      <ExperimentProvider fetcher={() => new Promise(() => {})} tracker={recordingTracker().tracker}>
        <Pricing />
      </ExperimentProvider>,
    );
    await act(async () => {});
    expect(screen.getByTestId("pricing").textContent).toBe("default");
  });
});

describe("getOrCreateVisitorId", () => {
  function clearCookie() {
    // biome-ignore lint/suspicious/noDocumentCookie: test set-up
    document.cookie = "verdict_vid=; path=/; max-age=0";
  }

  it("mirrors the cookie into localStorage, and the cookie wins when they differ", () => {
    clearCookie();
    // biome-ignore lint/suspicious/noDocumentCookie: the cookie the proxy set
    document.cookie = `verdict_vid=${VISITOR}; path=/`;
    window.localStorage.setItem("verdict_vid", OTHER_VISITOR);
    expect(getOrCreateVisitorId()).toBe(VISITOR);
    expect(window.localStorage.getItem("verdict_vid")).toBe(VISITOR);
  });

  it("restores a missing cookie from localStorage, and makes a UUID v4 only when both are missing", () => {
    clearCookie();
    window.localStorage.setItem("verdict_vid", OTHER_VISITOR);
    expect(getOrCreateVisitorId()).toBe(OTHER_VISITOR);
    expect(document.cookie).toContain(`verdict_vid=${OTHER_VISITOR}`);

    clearCookie();
    window.localStorage.clear();
    const made = getOrCreateVisitorId();
    expect(made).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(document.cookie).toContain(`verdict_vid=${made}`);
    expect(window.localStorage.getItem("verdict_vid")).toBe(made);
  });

  it("writes a first-party cookie for a year, SameSite=Lax, Secure only on https", () => {
    const plain = visitorCookieString(VISITOR, { secure: false });
    expect(plain).toContain(`verdict_vid=${VISITOR}`);
    expect(plain).toMatch(/Max-Age=31536000/i);
    expect(plain).toMatch(/SameSite=Lax/i);
    expect(plain).toMatch(/Path=\//i);
    expect(plain).not.toMatch(/Secure/i);
    expect(visitorCookieString(VISITOR, { secure: true })).toMatch(/; Secure/i);
  });
});
