import { describe, expect, it } from "vitest";
import type { ExperimentServices } from "@/features/experiments/server/services";
import { createTRPCHttpHandler } from "@/server/api/http";
import { databaseKinds, type TestDatabase } from "./databases";
import { createExperiment, withFreshServices } from "./experiments-fixture";

const visitor = (n: number) => `5e1a${String(n).padStart(4, "0")}-2222-4333-8444-555566667777`;

describe.each(databaseKinds())("consent on %s", (kind) => {
  let test: TestDatabase;
  let services: ExperimentServices;
  let handler: (request: Request) => Promise<Response>;

  withFreshServices(kind, {}, (database, experiments) => {
    test = database;
    services = experiments;
    handler = createTRPCHttpHandler({ getSession: async () => null, experiments: services });
  });

  async function exposedVisitor(n: number, consent: "pending" | "granted") {
    const slug = await createExperiment(services);
    const { variant } = await services.assignments.getVariantForVisitor(slug, visitor(n));
    await services.events.recordExposure({
      slug,
      variant: variant as string,
      ids: { visitorId: visitor(n) },
      source: "BROWSER",
      consent,
    });
    return slug;
  }

  const answer = (n: number, consent: "granted" | "denied", headers: Record<string, string> = {}) =>
    handler(
      new Request("http://localhost/api/trpc/events.setConsent", {
        method: "POST",
        headers: { cookie: `verdict_vid=${visitor(n)}`, "content-type": "application/json", ...headers },
        body: JSON.stringify({ json: { consent } }),
      }),
    );

  it("holds a pending visitor's events, releases them on accept with their original time", async () => {
    const slug = await exposedVisitor(1, "pending");
    const held = await test.db.event.findFirstOrThrow({ where: { experimentSlug: slug } });
    expect(held).toMatchObject({ deliveryStatus: "HELD", consent: "PENDING" });
    const response = await answer(1, "granted");
    expect(response.status).toBe(200);
    expect((await response.json()).result.data.json).toEqual({ consent: "granted", changed: 1 });
    const released = await test.db.event.findFirstOrThrow({ where: { experimentSlug: slug } });
    expect(released).toMatchObject({ deliveryStatus: "PENDING", consent: "GRANTED" });
    expect(released.occurredAt.toISOString()).toBe(held.occurredAt.toISOString());
  });

  it("keeps them local on decline, and treats Global Privacy Control as a decline", async () => {
    const declined = await exposedVisitor(2, "pending");
    await answer(2, "denied");
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: declined } })).toMatchObject({
      deliveryStatus: "LOCAL_ONLY",
      consent: "DENIED",
    });
    const gpc = await exposedVisitor(3, "pending");
    const response = await answer(3, "granted", { "sec-gpc": "1" });
    expect((await response.json()).result.data.json.consent).toBe("denied");
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: gpc } })).toMatchObject({
      deliveryStatus: "LOCAL_ONLY",
    });
  });

  it("a later decline stops events not yet sent; delivered ones are history", async () => {
    const sent = await exposedVisitor(4, "granted");
    await test.db.event.updateMany({
      where: { experimentSlug: sent },
      data: { deliveryStatus: "DELIVERED" },
    });
    const queued = await exposedVisitor(4, "granted");
    await answer(4, "denied");
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: sent } })).toMatchObject({
      deliveryStatus: "DELIVERED",
    });
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: queued } })).toMatchObject({
      deliveryStatus: "LOCAL_ONLY",
    });
    // The answer is kept (locally) so later server-side events know the visitor's latest choice.
    const marker = await test.db.event.findFirstOrThrow({
      where: { name: "$verdict_consent", visitorId: visitor(4) },
      orderBy: { occurredAt: "desc" },
    });
    expect(marker).toMatchObject({ consent: "DENIED", deliveryStatus: "LOCAL_ONLY" });
  });

  it("treats Do Not Track (DNT: 1) as a refusal, for the banner's answer and for new events", async () => {
    const held = await exposedVisitor(5, "pending");
    const response = await answer(5, "granted", { dnt: "1" });
    expect(response.status).toBe(200);
    expect((await response.json()).result.data.json).toEqual({ consent: "denied", changed: 1 });
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: held } })).toMatchObject({
      deliveryStatus: "LOCAL_ONLY",
      consent: "DENIED",
    });

    // The consent cookie says yes; the browser's DNT header wins, so the event never leaves.
    const slug = await createExperiment(services);
    const { variant } = await services.assignments.getVariantForVisitor(slug, visitor(6));
    const track = (headers: Record<string, string>) =>
      handler(
        new Request("http://localhost/api/trpc/events.track", {
          method: "POST",
          headers: {
            cookie: `verdict_vid=${visitor(6)}; verdict_consent=granted`,
            "content-type": "application/json",
            ...headers,
          },
          body: JSON.stringify({ json: { events: [{ type: "exposure", slug, variant }] } }),
        }),
      );
    expect((await (await track({ dnt: "1" })).json()).result.data.json.outcomes).toEqual(["recorded"]);
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: slug } })).toMatchObject({
      consent: "DENIED",
      deliveryStatus: "LOCAL_ONLY",
    });

    // DNT: 0 is no signal: the visitor's own answer stands.
    const accepted = await exposedVisitor(7, "pending");
    const allowed = await answer(7, "granted", { dnt: "0" });
    expect((await allowed.json()).result.data.json.consent).toBe("granted");
    expect(await test.db.event.findFirstOrThrow({ where: { experimentSlug: accepted } })).toMatchObject({
      deliveryStatus: "PENDING",
      consent: "GRANTED",
    });
  });
});
