import { assignVariant } from "@/features/experiments/core/assign";
import { experimentConfigSchema } from "@/features/experiments/core/config";
import { CONVERSION_EVENT, EXPOSURE_EVENT } from "@/features/experiments/core/events";
import { PURCHASE_EVENT } from "@/features/experiments/core/orders";
import { mulberry32 } from "@/features/experiments/core/seeded-random";
import { toExperimentMetadata } from "@/features/experiments/server/metadata";
import { DAY_MS } from "@/features/experiments/server/results-folding";
import type { Prisma, PrismaClient } from "@/generated/prisma/client";
import { analyzeEventTables, rebuildRollups } from "./events/rollup-jobs";

/**
 * A test with two weeks of history, so the results page has something to show on a fresh install.
 * The data is synthetic but generated through the real bucketing, and kept local: its events are
 * LOCAL_ONLY, never sent to PostHog.
 */
export const RESULTS_DEMO_SLUG = "checkout-button-copy";

const DAYS = 14;
const VISITORS_PER_DAY = 250;
const EXPOSED_SHARE = 0.93;
const CHECKOUT_RATE = { control: 0.12, treatment: 0.145 } as const;
const PURCHASE_SHARE_OF_CHECKOUTS = 0.42;
const RETURNING_SHARE = 0.15;

function visitorId(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

async function inChunks<T>(rows: T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < rows.length; start += 1000) await write(rows.slice(start, start + 1000));
}

/** Creates the demo test and its history once; returns whether it did. */
export async function seedResultsDemo(db: PrismaClient, now: Date): Promise<boolean> {
  const startedAt = new Date(now.getTime() - DAYS * DAY_MS);
  const config = experimentConfigSchema.parse({
    variants: [
      { name: "control", percentage: 50, description: "“Buy now”" },
      { name: "treatment", percentage: 50, description: "“Complete my order”, with the total on the button" },
    ],
    assignmentType: "deterministic",
    scope: "visitor",
    status: "running",
    startedAt: startedAt.toISOString(),
    conversionEvents: ["begin_checkout", PURCHASE_EVENT],
    analysis: { primaryMetric: "begin_checkout", guardrails: ["revenue"], minDetectableEffect: 0.15 },
  });
  const created = await db.feature.createMany({
    data: [
      {
        slug: RESULTS_DEMO_SLUG,
        type: "EXPERIMENT",
        enabled: true,
        description:
          "Checkout button copy (demo data): does naming the outcome make more visitors begin checkout?",
        metadata: toExperimentMetadata(config),
      },
    ],
    skipDuplicates: true,
  });
  if (created.count === 0) return false;

  // Seeded: the demo is the same on every machine.
  const random = mulberry32(2);
  const assignments: Prisma.ExperimentVariantCreateManyInput[] = [];
  const events: Prisma.EventCreateManyInput[] = [];
  const event = (
    name: string,
    at: Date,
    id: string,
    variant: string,
    key: string,
    properties: Prisma.InputJsonObject,
  ) =>
    events.push({
      name,
      occurredAt: at,
      receivedAt: at,
      visitorId: id,
      experimentSlug: RESULTS_DEMO_SLUG,
      variant,
      phase: 1,
      properties: { experiment_slug: RESULTS_DEMO_SLUG, variant, ...properties },
      source: "SERVER",
      idempotencyKey: key,
      deliveryStatus: "LOCAL_ONLY",
    });

  for (let day = 0; day < DAYS; day += 1) {
    const arrivals = Math.round(VISITORS_PER_DAY * (0.8 + 0.4 * random()));
    for (let index = 0; index < arrivals; index += 1) {
      const id = visitorId(random);
      const variant = assignVariant({ slug: RESULTS_DEMO_SLUG, variants: config.variants }, id) ?? "control";
      const assignedAt = new Date(startedAt.getTime() + (day + random()) * DAY_MS);
      const exposed = random() < EXPOSED_SHARE;
      const exposedAt = new Date(assignedAt.getTime() + 2_000);
      assignments.push({
        experimentSlug: RESULTS_DEMO_SLUG,
        phase: 1,
        variant,
        visitorId: id,
        assignmentType: "DETERMINISTIC",
        assignedAt,
        firstExposedAt: exposed ? exposedAt : null,
      });
      // Returning customers bought before (the CUPED covariate) and buy more, and bigger.
      const priorValue =
        random() < RETURNING_SHARE ? Math.round(80 * Math.exp(random() - 0.5) * 100) / 100 : 0;
      if (priorValue > 0) {
        const boughtAt = new Date(assignedAt.getTime() - (1 + random() * 20) * DAY_MS);
        events.push({
          name: PURCHASE_EVENT,
          occurredAt: boughtAt,
          receivedAt: boughtAt,
          visitorId: id,
          properties: { order_id: `demo-prior-${id}`, value: priorValue, currency: "EUR" },
          source: "WEBHOOK",
          idempotencyKey: `order:demo-prior-${id}`,
          deliveryStatus: "LOCAL_ONLY",
        });
      }
      if (!exposed) continue;
      event(EXPOSURE_EVENT, exposedAt, id, variant, `exposure:${RESULTS_DEMO_SLUG}:1:${id}`, {
        [`$feature/${RESULTS_DEMO_SLUG}`]: variant,
      });
      const checkoutRate = CHECKOUT_RATE[variant as keyof typeof CHECKOUT_RATE] * (priorValue > 0 ? 4 : 1);
      if (random() >= checkoutRate) continue;
      const checkoutAt = new Date(exposedAt.getTime() + 60_000 + random() * 3_600_000);
      event(CONVERSION_EVENT, checkoutAt, id, variant, `conversion:demo-checkout-${id}`, {
        conversion_event: "begin_checkout",
      });
      if (random() >= (priorValue > 0 ? 0.8 : PURCHASE_SHARE_OF_CHECKOUTS)) continue;
      // Order values: a log-normal spread around 60, the shape real baskets have.
      const basket = 60 * Math.exp(0.5 * (random() + random() + random() - 1.5));
      const value = Math.round((priorValue > 0 ? 0.5 * basket + 0.8 * priorValue : basket) * 100) / 100;
      event(
        CONVERSION_EVENT,
        new Date(checkoutAt.getTime() + 300_000),
        id,
        variant,
        `conversion:demo-order-${id}`,
        {
          conversion_event: PURCHASE_EVENT,
          value,
          currency: "EUR",
        },
      );
    }
  }
  await inChunks(assignments, (chunk) =>
    db.experimentVariant.createMany({ data: chunk, skipDuplicates: true }),
  );
  await inChunks(events, (chunk) => db.event.createMany({ data: chunk, skipDuplicates: true }));
  // Statistics first: autovacuum would take a minute to notice the load (PGlite has none), and
  // the rollups planned for empty tables took 8.6 s instead of 1.8 s on PGlite.
  await analyzeEventTables(db);
  await rebuildRollups(db);
  return true;
}
