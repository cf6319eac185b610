// @vitest-environment happy-dom
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { act, cleanup, render, screen } from "@testing-library/react";
import { type ComponentProps, createElement, type ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  experimentDraftSchema,
  experimentUpdateSchema,
  lifecycleActionSchema,
  updateStatusSchema,
} from "@/features/experiments/core/admin-inputs";
import { experimentConfigSchema } from "@/features/experiments/core/config";
import { parseCartAttributes, shopifyOrderSchema } from "@/features/experiments/core/orders";
import { validateVariants } from "@/features/experiments/core/variants";
import type { ExperimentTracker } from "@/features/experiments/hooks";
import { ExperimentProvider } from "@/features/experiments/hooks";
import type { RequestAssignments, ServedAssignment } from "@/features/experiments/server/request-assignments";
import { handleOrderWebhook, type OrderWebhookDeps, verifyShopifyHmac } from "@/server/events/orders";
import { dashboardLayoutExperiment } from "../../examples/dashboard-layout/experiment";
import { TeamDashboard } from "../../examples/dashboard-layout/team-dashboard";
import { homepageHeroExperiment } from "../../examples/landing-hero/experiment";
import { HomepageHero } from "../../examples/landing-hero/homepage-hero";
import { signShopifyBody, testOrder } from "../../examples/order-webhook/send-test-order";
import { pricingAbcExperiment } from "../../examples/pricing-abc/experiment";
import { PricingCards } from "../../examples/pricing-abc/pricing-cards";
import { RecordExposure } from "../../examples/server-component/record-exposure";
import { afterEdit, atLaunch } from "../../examples/targeting-by-plan/audience";
import {
  annualBillingOfferExperiment,
  excludeOrganizationTeams,
} from "../../examples/targeting-by-plan/experiment";
import { upgradeButtonExperiment } from "../../examples/upgrade-button/experiment";
import { UpgradeButton } from "../../examples/upgrade-button/upgrade-button";

// The hooks import the app's tRPC React client (used only for explicit ids); the examples use the provider.
vi.mock("@/trpc/react", () => ({
  api: { experiments: { getVariant: { useQuery: () => ({ data: undefined, isLoading: false }) } } },
}));

const VISITOR = "6f1c1f9e-3a52-4b7e-9a0d-2c4b8e1d5f37";
const USER = "0d9b3c2a-7f41-4e8a-b6c5-1a2b3c4d5e6f";
const TEAM = "00000000-0000-4000-8000-00000000d3e0";

const EXAMPLE_EXPERIMENTS = [
  upgradeButtonExperiment,
  dashboardLayoutExperiment,
  homepageHeroExperiment,
  pricingAbcExperiment,
  annualBillingOfferExperiment,
];

describe("the example experiment configurations", () => {
  it.each(EXAMPLE_EXPERIMENTS.map((experiment) => [experiment.slug, experiment] as const))(
    "%s is accepted by admin.experiments.create and stored as a valid configuration",
    (_slug, experiment) => {
      const draft = experimentDraftSchema.parse(experiment);
      expect(validateVariants(draft.variants)).toEqual({ valid: true, problems: [] });
      // What LifecycleService.create stores in Feature.metadata.
      const { slug: _, description: __, ...config } = draft;
      const stored = experimentConfigSchema.parse({ ...config, status: "draft", phase: 1 });
      expect(stored.scope).toBe(experiment.scope);
      expect(stored.conversionEvents).toEqual(experiment.conversionEvents);
    },
  );

  it("covers the three scopes, and the A/B/C test has three variants", () => {
    expect(new Set(EXAMPLE_EXPERIMENTS.map((experiment) => experiment.scope))).toEqual(
      new Set(["user", "team", "visitor"]),
    );
    expect(pricingAbcExperiment.variants.map((variant) => variant.name)).toEqual([
      "control",
      "annual-first",
      "value-first",
    ]);
    // The order webhook only credits tests that count purchases (or count every event).
    expect(pricingAbcExperiment.conversionEvents).toContain("purchase");
  });

  it("the targeting edit and the start are valid admin inputs", () => {
    expect(experimentUpdateSchema.parse(excludeOrganizationTeams(2))).toMatchObject({
      slug: "annual-billing-offer",
      expectedVersion: 2,
      targetingRules: { plans: ["individual", "teams"], excludeOrganizations: true },
    });
    expect(lifecycleActionSchema.parse("start")).toBe("start");
    expect(
      updateStatusSchema.parse({
        slug: annualBillingOfferExperiment.slug,
        action: "start",
        expectedVersion: 1,
      }),
    ).toBeTruthy();
  });

  it("targeting by plan includes and leaves out the teams the example says", () => {
    const included = (audience: typeof atLaunch) =>
      audience.filter((team) => team.included).map((team) => team.name);
    expect(included(atLaunch)).toEqual(["Solo founder", "Product team", "Team inside Acme Corp"]);
    expect(included(afterEdit)).toEqual(["Solo founder", "Product team"]);
  });
});

describe("the order webhook example", () => {
  const secret = "example-order-secret";
  const body = JSON.stringify(
    testOrder({ visitorId: VISITOR, experiments: { "pricing-abc": "annual-first" } }),
  );

  it("signs a payload the real verifier accepts, and only that payload with that secret", () => {
    const signature = signShopifyBody(body, secret);
    expect(verifyShopifyHmac(body, signature, secret)).toBe(true);
    expect(verifyShopifyHmac(Buffer.from(body, "utf8"), signature, secret)).toBe(true);
    expect(verifyShopifyHmac(body, signature, "another-secret")).toBe(false);
    expect(verifyShopifyHmac(body.replace("49.00", "0.01"), signature, secret)).toBe(false);
  });

  it("sends an orders/create payload the webhook parses, with the cart attributes read back", () => {
    const order = shopifyOrderSchema.parse(JSON.parse(body));
    expect(order).toMatchObject({ total_price: 49, currency: "EUR" });
    expect(JSON.stringify(order)).not.toContain("buyer@example.com");
    expect(parseCartAttributes(order.note_attributes)).toEqual({
      visitorId: VISITOR,
      sessionId: "test-session",
      variants: { "pricing-abc": "annual-first" },
    });
  });

  it("goes through the real handler: signature, parsing and attribution (storage stubbed)", async () => {
    const written: { name: string; properties: Record<string, unknown> }[] = [];
    const pricing = {
      slug: "pricing-abc",
      config: experimentConfigSchema.parse({ ...pricingAbcExperiment, status: "running" }),
    };
    const tx = {
      event: {
        createMany: async ({ data }: { data: typeof written }) => {
          written.push(...data);
          return { count: data.length };
        },
      },
    };
    const services = {
      catalog: {
        getSnapshot: async () => ({ experiments: new Map([["pricing-abc", pricing]]), broken: new Map() }),
      },
      repository: {
        findAssignmentsForSubjects: async () => [
          {
            experimentSlug: "pricing-abc",
            phase: 1,
            visitorId: VISITOR,
            variant: "annual-first",
            assignmentType: "DETERMINISTIC",
          },
        ],
        db: {
          event: { findFirst: async () => ({ consent: "GRANTED" }) },
          $transaction: (work: (client: typeof tx) => Promise<unknown>) => work(tx),
        },
      },
    } as unknown as OrderWebhookDeps["services"];
    const send = (signature: string) =>
      handleOrderWebhook(
        new Request("http://localhost/api/webhooks/orders", {
          method: "POST",
          headers: { "content-type": "application/json", "x-shopify-hmac-sha256": signature },
          body,
        }),
        { services, secret },
      );

    expect((await send(signShopifyBody(body, "wrong-secret"))).status).toBe(401);
    expect(written).toEqual([]);
    const accepted = await send(signShopifyBody(body, secret));
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ recorded: 2, replay: false });
    expect(written.map((event) => event.name)).toEqual(["purchase", "experiment_conversion"]);
    expect(written[1]?.properties).toMatchObject({
      conversion_event: "purchase",
      experiment_slug: "pricing-abc",
      variant: "annual-first",
      "$feature/pricing-abc": "annual-first",
      value: 49,
      currency: "EUR",
    });
  });
});

function served(slug: string, variant: string | null, reason: ServedAssignment["reason"]): ServedAssignment {
  return {
    slug,
    variant,
    isControl: variant === "control",
    isNewAssignment: false,
    reason,
    phase: 1,
    version: 2,
  };
}

function recordingTracker() {
  const exposures: string[] = [];
  const conversions: string[] = [];
  const tracker: ExperimentTracker = {
    exposure: ({ slug, variant }) => exposures.push(`${slug}=${variant}`),
    conversion: (slug, event) => conversions.push(`${slug}:${event}`),
    flush: async () => {},
  };
  return { tracker, exposures, conversions };
}

function renderWith(
  assignments: ServedAssignment[],
  node: ReactNode,
  identity: Partial<RequestAssignments["identity"]> = {},
) {
  const { tracker, exposures } = recordingTracker();
  const initial: RequestAssignments = {
    identity: { userId: null, teamId: null, visitorId: VISITOR, ...identity },
    assignments: Object.fromEntries(assignments.map((entry) => [entry.slug, entry])),
  };
  // Children go in createElement's third argument; the props type still lists them.
  const props = { initial, tracker } as ComponentProps<typeof ExperimentProvider>;
  const view = render(createElement(ExperimentProvider, props, node));
  return { ...view, exposures };
}

describe("the example components", () => {
  beforeEach(() => window.localStorage.clear());
  afterEach(cleanup);

  it("the upgrade button shows its user's variant and records one exposure", () => {
    const onUpgrade = vi.fn();
    const { exposures } = renderWith(
      [served("upgrade-button", "price-in-label", "sticky")],
      createElement(UpgradeButton, { onUpgrade }),
      { userId: USER },
    );
    expect(screen.getByRole("button").textContent).toBe("Upgrade for $12/month");
    expect(exposures).toEqual(["upgrade-button=price-in-label"]);
  });

  it("the upgrade button shows the default to someone not in the test, and records nothing", () => {
    const { exposures } = renderWith(
      [served("upgrade-button", null, "missing-subject")],
      createElement(UpgradeButton, { onUpgrade: () => {} }),
    );
    expect(screen.getByRole("button").textContent).toBe("Upgrade");
    expect(exposures).toEqual([]);
  });

  it("the team dashboard uses the team's layout", () => {
    const items = [{ id: "a", title: "Checkout copy" }];
    const { container, exposures } = renderWith(
      [served("dashboard-layout", "cards", "assigned")],
      createElement(TeamDashboard, { items }),
      { userId: USER, teamId: TEAM },
    );
    expect(container.querySelector("[data-experiment]")?.getAttribute("data-variant")).toBe("cards");
    expect(container.querySelector("ul")?.className).toBe("grid-2");
    expect(exposures).toEqual(["dashboard-layout=cards"]);
  });

  it("the homepage hero and the pricing cards render the visitor's variants", () => {
    const plans = [{ id: "teams", name: "Teams", monthly: 30, annual: 300, includes: "Shared experiments" }];
    const { container, exposures } = renderWith(
      [served("homepage-hero", "outcome-led", "assigned"), served("pricing-abc", "annual-first", "sticky")],
      [createElement(HomepageHero, { key: "hero" }), createElement(PricingCards, { key: "cards", plans })],
    );
    expect(screen.getByRole("heading", { level: 1 }).textContent).toBe(
      "Ship the variant that wins, not the one you guessed",
    );
    expect(container.querySelector('[data-experiment="pricing-abc"]')?.textContent).toContain("$300/year");
    expect(exposures.sort()).toEqual(["homepage-hero=outcome-led", "pricing-abc=annual-first"]);
  });

  it("RecordExposure counts a server-rendered variant, but not a forced preview", async () => {
    const { exposures } = renderWith(
      [served("homepage-hero", "outcome-led", "assigned"), served("pricing-abc", "value-first", "forced")],
      [
        createElement(RecordExposure, { key: "hero", slug: "homepage-hero" }),
        createElement(RecordExposure, { key: "pricing", slug: "pricing-abc" }),
      ],
    );
    await act(async () => {});
    expect(exposures).toEqual(["homepage-hero=outcome-led"]);
  });
});

describe("EXAMPLES.md", () => {
  // Vitest runs from the repository root (vitest.config.ts).
  const root = process.cwd();
  const files = readdirSync(path.join(root, "examples"), { recursive: true, encoding: "utf8" })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => `examples/${file.split(path.sep).join("/")}`)
    .sort();

  it("lists the example files", () => {
    expect(files.length).toBeGreaterThanOrEqual(17);
  });

  it.each(files)("includes the current text of %s", (file) => {
    const doc = readFileSync(path.join(root, "EXAMPLES.md"), "utf8");
    const text = readFileSync(path.join(root, file), "utf8").trimEnd();
    const language = file.endsWith(".tsx") ? "tsx" : "ts";
    expect(doc).toContain(`\`${file}\`:\n\n\`\`\`${language}\n${text}\n\`\`\``);
  });
});
