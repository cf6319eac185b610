import { EXPOSURE_EVENT } from "./events";

/**
 * The PostHog app that belongs to an ingestion host: events go to `us.i.posthog.com`, people
 * look at `us.posthog.com` (likewise for EU); a self-hosted PostHog serves both from one host.
 */
export function posthogAppUrl(ingestionHost: string): string {
  const url = new URL(ingestionHost);
  url.hostname = url.hostname.replace(/^(us|eu)\.i\.posthog\.com$/, "$1.posthog.com");
  return url.origin;
}

/**
 * A new trends insight of the experiment's unique exposures per day, broken down by variant
 * (PostHog opens `/insights/new#q=<query>` with the query filled in).
 */
export function posthogInsightUrl(ingestionHost: string, slug: string): string {
  const query = {
    kind: "InsightVizNode",
    source: {
      kind: "TrendsQuery",
      series: [{ kind: "EventsNode", event: EXPOSURE_EVENT, name: EXPOSURE_EVENT, math: "dau" }],
      properties: [{ key: "experiment_slug", value: [slug], operator: "exact", type: "event" }],
      breakdownFilter: { breakdown: `$feature/${slug}`, breakdown_type: "event" },
      dateRange: { date_from: "-30d" },
      interval: "day",
    },
  };
  return `${posthogAppUrl(ingestionHost)}/insights/new#q=${encodeURIComponent(JSON.stringify(query))}`;
}
