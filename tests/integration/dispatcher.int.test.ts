import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventUuid } from "@/features/experiments/core/events";
import type { PrismaClient } from "@/generated/prisma/client";
import { createDatabase } from "@/server/db/client";
import { sqlFor } from "@/server/db/sql";
import { SPLIT_BUDGET } from "@/server/events/delivery";
import { PostHogDestination } from "@/server/events/destinations";
import { backoffDelay, EventDispatcher } from "@/server/events/dispatcher";
import { shutDownAndExit } from "@/server/events/runtime";
import { createTestDatabase, databaseKinds, type TestDatabase } from "./databases";
import { FakePostHog } from "./fake-posthog";

/**
 * A slow PostHog: a loopback server in front of the fake that holds every request until the test
 * opens the gate, then passes it on and answers with the fake's answer. The test knows a batch is
 * in flight (`held`) and decides when it completes.
 */
async function gatedPostHog(behind: FakePostHog) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const gate = { held: 0, heldEvents: 0, url: "", release: () => open(), close: async () => {} };
  const relay = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const json = request.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
    gate.heldEvents += (JSON.parse(json.toString("utf8")) as { batch?: unknown[] }).batch?.length ?? 0;
    gate.held += 1;
    await opened;
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "content-encoding"]) {
      const value = request.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    try {
      const answer = await fetch(`${behind.url}${request.url}`, {
        method: request.method,
        headers,
        body: Buffer.concat(chunks),
      });
      response.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
    } catch {
      // Closed while holding it (the test is over): the caller sees a dropped connection.
      response.destroy();
    }
  };
  const server = createServer((request, response) => void relay(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gate.close = async () => {
    open();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return gate;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Until every event is at the gate. Two loops claiming at once may split the events between two
 * batches (SKIP LOCKED), so the gate may hold one or two requests.
 */
async function untilInFlight(slow: { heldEvents: number }, count: number, timeout: number) {
  await expect.poll(() => slow.heldEvents, { timeout }).toBe(count);
}

let sequence = 0;
async function writeEvents(db: PrismaClient, count: number, overrides: Record<string, unknown> = {}) {
  const batch = Array.from({ length: count }, () => {
    sequence += 1;
    return {
      name: "experiment_viewed",
      occurredAt: new Date(Date.UTC(2026, 10, 20, 12, 0, sequence % 60)),
      visitorId: `visitor-${sequence}`,
      experimentSlug: "landing-hero",
      variant: sequence % 2 ? "control" : "treatment",
      phase: 1,
      properties: {
        experiment_slug: "landing-hero",
        "$feature/landing-hero": sequence % 2 ? "control" : "treatment",
      },
      source: "BROWSER" as const,
      idempotencyKey: `test:${process.pid}:${sequence}`,
      consent: "GRANTED" as const,
      ...overrides,
    };
  });
  await db.event.createMany({ data: batch });
  return batch;
}

/** A clock the test moves by hand, so backoff schedules are exercised without waiting. */
function manualClock(start = Date.now()) {
  let now = start;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

describe.each(databaseKinds())("event dispatcher on %s", (kind) => {
  let test: TestDatabase;
  let posthog: FakePostHog;

  beforeAll(async () => {
    test = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await test?.drop();
  });
  beforeEach(async () => {
    posthog = await new FakePostHog().start();
    await test.db.event.deleteMany({});
  });
  afterEach(async () => {
    await posthog.stop();
  });

  const destination = () =>
    new PostHogDestination({ apiKey: "phc_test", host: posthog.url, timeoutMs: 2_000 });

  it("delivers batches with the PostHog uuid, distinct id, timestamp and feature properties", async () => {
    const written = await writeEvents(test.db, 150);
    const dispatcher = new EventDispatcher(test.db, [destination()], { batchSize: 100 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 100, delivered: 100 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 50, delivered: 50 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 0 });
    expect(posthog.batches.map((batch) => batch.length)).toEqual([100, 50]);
    const first = written[0];
    const sent = posthog.events.find((event) => event.uuid === eventUuid(first?.idempotencyKey ?? ""));
    expect(sent).toMatchObject({ event: "experiment_viewed", distinct_id: first?.visitorId });
    expect(sent?.properties).toMatchObject({
      "$feature/landing-hero": first?.variant,
      visitor_id: first?.visitorId,
      verdict_source: "browser",
    });
    expect(new Date(sent?.timestamp ?? 0).toISOString()).toBe(first?.occurredAt.toISOString());
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(150);
  });

  it("loses nothing and duplicates nothing through a 30-second outage", async () => {
    await writeEvents(test.db, 40);
    const clock = manualClock();
    const dispatcher = new EventDispatcher(test.db, [destination()], {
      now: clock.now,
      random: () => 0.5,
      baseDelayMs: 1_000,
    });
    posthog.mode = "fail";
    for (let second = 0; second < 30; second++) {
      await dispatcher.dispatchOnce();
      clock.advance(1_000);
    }
    expect(posthog.events).toHaveLength(0);
    const failing = await test.db.event.findFirstOrThrow({});
    expect(failing.lastError).toContain("503");
    expect(failing.attempts).toBeGreaterThan(1);
    posthog.mode = "ok";
    clock.advance(60_000);
    while ((await dispatcher.dispatchOnce()).claimed > 0) clock.advance(1_000);
    expect(posthog.events).toHaveLength(40);
    expect([...posthog.uuidCounts().values()].every((count) => count === 1)).toBe(true);
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(40);
  });

  it("gives up after the maximum attempts (dead letters), and an admin re-drive delivers them", async () => {
    await writeEvents(test.db, 3);
    const clock = manualClock();
    const dispatcher = new EventDispatcher(test.db, [destination()], { now: clock.now, maxAttempts: 3 });
    posthog.mode = "fail";
    for (let i = 0; i < 5; i++) {
      await dispatcher.dispatchOnce();
      clock.advance(3_600_000);
    }
    expect(await test.db.event.count({ where: { deliveryStatus: "DEAD" } })).toBe(3);
    posthog.mode = "ok";
    const { OutboxStore } = await import("@/server/events/outbox");
    expect(await new OutboxStore(test.db).redrive("all", clock.now())).toBe(3);
    expect(await dispatcher.dispatchOnce()).toMatchObject({ delivered: 3 });
  });

  it("a dispatcher that dies mid-delivery leaves its batch to the next one, delivered once", async () => {
    await writeEvents(test.db, 10);
    const clock = manualClock();
    posthog.mode = "stall";
    // On PostgreSQL the doomed dispatcher gets a connection of its own, for the test to cut.
    const own = kind === "postgres" ? createDatabase(test.target, { poolSize: 1 }) : null;
    const doomed = new EventDispatcher(own?.db ?? test.db, [destination()], {
      now: clock.now,
      leaseMs: 5_000,
    });
    const abandoned = doomed.dispatchOnce();
    await expect.poll(() => posthog.requests).toBe(1);
    posthog.mode = "ok";
    const successor = new EventDispatcher(test.db, [destination()], { now: clock.now });
    if (own) {
      // Its batch is locked while it lives, however long that is.
      clock.advance(3_600_000);
      expect(await successor.dispatchOnce()).toMatchObject({ claimed: 0 });
      // Then its process dies: the connection closes and the transaction with it.
      await test.db.$queryRaw`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = current_database() and state = 'idle in transaction'`;
      // Termination is a signal: the backend (and its locks) go a moment later.
      await expect
        .poll(async () => {
          const [row] = await test.db.$queryRaw<{ held: number }[]>`select count(*)::int as held
            from pg_stat_activity where datname = current_database() and state = 'idle in transaction'`;
          return row?.held;
        })
        .toBe(0);
    } else {
      // The first dispatcher is gone (its request never completes); its lease runs out.
      clock.advance(6_000);
    }
    expect(await successor.dispatchOnce()).toMatchObject({ delivered: 10 });
    expect(posthog.events).toHaveLength(10);
    expect(await test.db.event.findMany({ select: { deliveryStatus: true, attempts: true } })).toEqual(
      Array.from({ length: 10 }, () => ({
        deliveryStatus: "DELIVERED",
        attempts: kind === "postgres" ? 1 : 2,
      })),
    );
    await posthog.stop();
    await abandoned.catch(() => {});
    await own?.close().catch(() => {});
    posthog = await new FakePostHog().start();
  });

  it("two dispatchers on one database deliver each event once", async () => {
    await writeEvents(test.db, 500);
    const second = kind === "postgres" ? createDatabase(test.target, { poolSize: 2 }) : null;
    const a = new EventDispatcher(test.db, [destination()], { batchSize: 25 });
    const b = new EventDispatcher(second?.db ?? test.db, [destination()], { batchSize: 25 });
    try {
      const drain = async (dispatcher: EventDispatcher) => {
        while ((await dispatcher.dispatchOnce()).claimed > 0) {}
      };
      await Promise.all([drain(a), drain(b)]);
    } finally {
      await second?.close();
    }
    expect(posthog.events).toHaveLength(500);
    expect(posthog.uuidCounts().size).toBe(500);
  });

  it("claims at most 1,000 events per batch unless told otherwise, each claim one PostHog request", async () => {
    await writeEvents(test.db, 2_500);
    const dispatcher = new EventDispatcher(test.db, [destination()]);
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 1_000, delivered: 1_000 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 1_000, delivered: 1_000 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 500, delivered: 500 });
    expect(posthog.batches.map((batch) => batch.length)).toEqual([1_000, 1_000, 500]);
    expect(posthog.uuidCounts().size).toBe(2_500);
  });

  it("a claim larger than posthog-node's default queue loses no event, and one PostHog finds too large is split", async () => {
    // posthog-node's queue holds 1,000 events by default and drops the oldest past that.
    await writeEvents(test.db, 1_500);
    posthog.maxEventsPerRequest = 400;
    const dispatcher = new EventDispatcher(test.db, [destination()], { batchSize: 5_000 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 1_500, delivered: 1_500 });
    // 1,500 and then 750 were refused (413); four requests of 375 went through.
    expect(posthog.batches.map((batch) => batch.length)).toEqual([375, 375, 375, 375]);
    expect(posthog.uuidCounts().size).toBe(1_500);
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(1_500);
  });

  it("one malformed event in a claim of 1,000: the other 999 go through once, it alone is given up on with PostHog's answer", async () => {
    const written = await writeEvents(test.db, 1_000);
    const bad = eventUuid(written[636]?.idempotencyKey ?? "");
    posthog.refuses = (event) => event.uuid === bad;
    const dispatcher = new EventDispatcher(test.db, [destination()]);
    expect(await dispatcher.dispatchOnce()).toEqual({
      claimed: 1_000,
      delivered: 999,
      retried: 0,
      dead: 1,
      refused: 1,
    });
    const counts = posthog.uuidCounts();
    expect(counts.size).toBe(999);
    expect(counts.has(bad)).toBe(false);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    // Halving down to one event of a thousand: two requests a halving, ten halvings.
    expect(posthog.requests).toBeLessThanOrEqual(21);
    const dead = await test.db.event.findMany({ where: { deliveryStatus: "DEAD" } });
    expect(dead.map((event) => event.idempotencyKey)).toEqual([written[636]?.idempotencyKey]);
    expect(dead[0]?.attempts).toBe(1);
    expect(dead[0]?.lastError).toContain("HTTP 400");
    expect(dead[0]?.lastError).toContain("invalid_payload");
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(999);
    expect(await dispatcher.dispatchOnce()).toMatchObject({ claimed: 0 });
  });

  it("a PostHog refusing every event gets a bounded number of requests a claim; the rest waits for its retry", async () => {
    await writeEvents(test.db, 200);
    posthog.refuses = () => true;
    const clock = manualClock();
    const dispatcher = new EventDispatcher(test.db, [destination()], { now: clock.now, random: () => 0.5 });
    const first = await dispatcher.dispatchOnce();
    expect(posthog.requests).toBeLessThanOrEqual(SPLIT_BUDGET + 1);
    expect(first.refused).toBeGreaterThan(0);
    expect(first).toMatchObject({ claimed: 200, delivered: 0, retried: 200 - first.refused });
    const waiting = await test.db.event.findMany({ where: { deliveryStatus: "PENDING" } });
    expect(waiting).toHaveLength(200 - first.refused);
    expect(waiting.every((event) => event.attempts === 1 && event.lastError?.includes("HTTP 400"))).toBe(
      true,
    );
    // PostHog takes them again (a fix on its side): what waited is delivered, once.
    posthog.refuses = () => false;
    clock.advance(60_000);
    expect(await dispatcher.dispatchOnce()).toMatchObject({ delivered: 200 - first.refused });
    expect(posthog.uuidCounts().size).toBe(200 - first.refused);
    expect(await test.db.event.count({ where: { deliveryStatus: "DEAD" } })).toBe(first.refused);
  });

  it("an outage while a refused claim is being split stops the splitting: nothing is lost or given up on", async () => {
    const written = await writeEvents(test.db, 100);
    const bad = eventUuid(written[10]?.idempotencyKey ?? "");
    const clock = manualClock();
    let wentAway = false;
    posthog.refuses = (event) => {
      // PostHog goes away after refusing the whole claim once.
      if (event.uuid === bad && !wentAway) {
        wentAway = true;
        posthog.mode = "fail";
      }
      return event.uuid === bad;
    };
    const dispatcher = new EventDispatcher(test.db, [destination()], { now: clock.now, random: () => 0.5 });
    expect(await dispatcher.dispatchOnce()).toMatchObject({ delivered: 0, retried: 100, dead: 0 });
    expect(posthog.requests).toBe(2);
    posthog.mode = "ok";
    clock.advance(60_000);
    expect(await dispatcher.dispatchOnce()).toMatchObject({ delivered: 99, refused: 1 });
    expect(posthog.uuidCounts().size).toBe(99);
  });

  it("an idle dispatcher costs one statement a look, and locks in a transaction only what is due", async () => {
    const sql = sqlFor(test.db);
    const transaction = sql.transaction?.bind(sql);
    const query = sql.query.bind(sql);
    // PGlite has no transactions to avoid: each claim is its lease statement, idle or not.
    expect(Boolean(transaction)).toBe(kind === "postgres");
    let opened = 0;
    const statements: string[] = [];
    if (transaction)
      sql.transaction = (work) => {
        opened += 1;
        return transaction(work);
      };
    sql.query = (statement, values) => {
      statements.push(statement.name);
      return query(statement, values);
    };
    try {
      const dispatcher = new EventDispatcher(test.db, [destination()], { batchSize: 100 });
      const claims = async (times: number) => {
        const claimed = [];
        for (let index = 0; index < times; index += 1)
          claimed.push((await dispatcher.dispatchOnce()).claimed);
        return claimed;
      };
      const idleLook = kind === "postgres" ? "verdict_outbox_any_due" : "verdict_outbox_lease";
      expect(await claims(2)).toEqual([0, 0]);
      // Scheduled for later: not due, so still no transaction.
      await writeEvents(test.db, 5, { nextAttemptAt: new Date(Date.now() + 60_000) });
      expect(await claims(1)).toEqual([0]);
      expect({ opened, statements }).toEqual({ opened: 0, statements: [idleLook, idleLook, idleLook] });
      // Busy: full batches go straight to the lock; the short one drains it, and looking resumes.
      await writeEvents(test.db, 250);
      statements.length = 0;
      expect(await claims(4)).toEqual([100, 100, 50, 0]);
      if (kind === "postgres") {
        expect(opened).toBe(3);
        expect(statements.filter((name) => name === "verdict_outbox_any_due")).toHaveLength(2);
      } else {
        expect(statements.filter((name) => name === "verdict_outbox_lease")).toHaveLength(4);
      }
      expect(posthog.events).toHaveLength(250);
    } finally {
      if (transaction) sql.transaction = transaction;
      sql.query = query;
    }
  });

  /** A started dispatcher whose first batch of `count` fresh events waits at a gate before PostHog. */
  async function dispatcherAtGate(count: number) {
    await writeEvents(test.db, count);
    const slow = await gatedPostHog(posthog);
    const dispatcher = new EventDispatcher(
      test.db,
      [new PostHogDestination({ apiKey: "phc_test", host: slow.url, timeoutMs: 10_000 })],
      { idleMs: 50 },
    );
    dispatcher.start();
    try {
      await untilInFlight(slow, count, 10_000);
    } catch (error) {
      slow.release();
      await dispatcher.stop();
      await slow.close();
      throw error;
    }
    return { slow, dispatcher };
  }

  it("stop() resolves only after the batch in flight at a slow PostHog is delivered and marked", async () => {
    const { slow, dispatcher } = await dispatcherAtGate(30);
    try {
      let resolved = false;
      const stopping = dispatcher.stop().then(async () => {
        resolved = true;
        return {
          arrived: posthog.events.length,
          delivered: await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } }),
        };
      });
      // Written after the stop was asked for: a stopping dispatcher claims nothing new.
      const late = await writeEvents(test.db, 5);
      await sleep(300);
      expect(resolved).toBe(false);
      expect(posthog.events).toHaveLength(0);

      slow.release();
      expect(await stopping).toEqual({ arrived: 30, delivered: 30 });
      expect(posthog.uuidCounts().size).toBe(30);
      const untouched = await test.db.event.findMany({
        where: { idempotencyKey: { in: late.map((event) => event.idempotencyKey) } },
      });
      expect(untouched.map((event) => [event.deliveryStatus, event.attempts])).toEqual(
        late.map(() => ["PENDING", 0]),
      );
    } finally {
      await slow.close();
    }
  });

  it("on SIGTERM the server exits with 143 once the batch in flight is delivered and marked", async () => {
    const { slow, dispatcher } = await dispatcherAtGate(20);
    try {
      const exits: { code: number; arrived: number }[] = [];
      const shutdown = shutDownAndExit(dispatcher, "SIGTERM", {
        exit: (code) => exits.push({ code, arrived: posthog.events.length }),
        graceMs: 10_000,
      });
      await sleep(300);
      expect(exits).toEqual([]);
      slow.release();
      await shutdown;
      expect(exits).toEqual([{ code: 143, arrived: 20 }]);
      expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(20);
    } finally {
      await slow.close();
    }
  });

  it("a shutdown exits after its grace period even if PostHog never answers; the batch stays claimed", async () => {
    const { slow, dispatcher } = await dispatcherAtGate(10);
    try {
      const exits: number[] = [];
      const started = Date.now();
      await shutDownAndExit(dispatcher, "SIGINT", { exit: (code) => exits.push(code), graceMs: 200 });
      expect(exits).toEqual([130]);
      expect(Date.now() - started).toBeLessThan(5_000);
      const claimed = await test.db.event.findMany({});
      expect(claimed.every((event) => event.deliveryStatus === "PENDING")).toBe(true);
      if (kind === "postgres") {
        // Locked by the hung delivery's transaction until the process is gone: nobody else takes it.
        const other = new EventDispatcher(test.db, [destination()]);
        expect(await other.dispatchOnce()).toMatchObject({ claimed: 0 });
        expect(claimed.every((event) => event.attempts === 0)).toBe(true);
      } else {
        // Leased, not delivered: another dispatcher takes it over once the lease is up.
        expect(claimed.every((event) => event.attempts === 1)).toBe(true);
        expect(claimed.every((event) => event.nextAttemptAt.getTime() > Date.now())).toBe(true);
      }
    } finally {
      await slow.close();
      await dispatcher.stop();
    }
  });

  it("runs as a loop and finishes the batch in flight when stopped", async () => {
    await writeEvents(test.db, 30);
    const dispatcher = new EventDispatcher(test.db, [destination()], { idleMs: 50 });
    dispatcher.start();
    await expect.poll(() => posthog.events.length, { timeout: 10_000 }).toBe(30);
    await dispatcher.stop();
    expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(30);
  });
});

describe("backoff", () => {
  it("grows exponentially with jitter, capped", () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0)).toBe(500);
    expect(backoffDelay(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

/** tests/integration/shutdown-server.ts as a process, with Verdict's start-up on `test`'s database. */
async function spawnShutdownServer(test: TestDatabase, env: Record<string, string>) {
  const { spawn } = await import("node:child_process");
  return spawn(process.execPath, ["--import", "tsx", "tests/integration/shutdown-server.ts"], {
    env: {
      ...process.env,
      NEXT_RUNTIME: "nodejs",
      NEXT_MANUAL_SIG_HANDLE: "true",
      DATABASE_URL: (test.target as { url: string }).url,
      LOG_LEVEL: "silent",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

describe.runIf(databaseKinds().includes("postgres"))("the server process on SIGTERM", () => {
  it("with NEXT_MANUAL_SIG_HANDLE, exits only after its dispatcher delivered the batch in flight", async () => {
    const test = await createTestDatabase("postgres");
    const posthog = await new FakePostHog().start();
    const slow = await gatedPostHog(posthog);
    try {
      await writeEvents(test.db, 40);
      const server = await spawnShutdownServer(test, {
        POSTHOG_API_KEY: "phc_test",
        POSTHOG_HOST: slow.url,
        EVENTS_DISPATCHER: "in-app",
      });
      const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
      await untilInFlight(slow, 40, 60_000);
      server.kill("SIGTERM");
      // A repeated signal (the terminal and the supervisor both pass Ctrl-C on) must not cut it short.
      server.kill("SIGTERM");
      await sleep(500);
      expect(server.exitCode).toBeNull();
      expect(posthog.events).toHaveLength(0);

      slow.release();
      expect(await exited).toBe(143);
      expect(posthog.events).toHaveLength(40);
      expect(await test.db.event.count({ where: { deliveryStatus: "DELIVERED" } })).toBe(40);
    } finally {
      await slow.close();
      await posthog.stop();
      await test.drop();
    }
  }, 120_000);

  it("with NEXT_MANUAL_SIG_HANDLE, answers the requests in flight, takes no new connection, then exits", async () => {
    const http = await import("node:http");
    const test = await createTestDatabase("postgres");
    const server = await spawnShutdownServer(test, { POSTHOG_API_KEY: "", EVENTS_DISPATCHER: "off" });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      server.once("exit", (code) => resolve({ code, at: Date.now() })),
    );
    const port = await new Promise<number>((resolve, reject) => {
      let output = "";
      server.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        const ready = /ready (\d+)/.exec(output);
        if (ready) resolve(Number(ready[1]));
      });
      server.once("exit", () => reject(new Error(`the server exited before it was ready: ${output}`)));
    });
    const agent = new http.Agent({ keepAlive: true });
    const get = (path: string, via: InstanceType<typeof http.Agent> = agent) =>
      new Promise<{ status: number; body: string; at: number }>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port, path, agent: via }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => {
              body += chunk.toString("utf8");
            });
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body, at: Date.now() }));
          })
          .on("error", reject);
      });
    try {
      // A keep-alive connection that has answered (and stays open), and a request in flight.
      expect(await get("/first")).toMatchObject({ status: 200, body: "answered /first" });
      const slow = get("/slow?ms=1500");
      await sleep(300);
      server.kill("SIGTERM");
      await sleep(300);
      const fresh = new http.Agent({ keepAlive: false });
      await expect(get("/late", fresh)).rejects.toMatchObject({ code: "ECONNREFUSED" });
      expect(server.exitCode).toBeNull();
      const answered = await slow;
      expect(answered).toMatchObject({ status: 200, body: "answered /slow" });
      const exit = await exited;
      expect(exit.code).toBe(143);
      // Not held by the keep-alive connections (two minutes): gone right after the last answer.
      expect(exit.at - answered.at).toBeLessThan(1_000);
    } finally {
      agent.destroy();
      if (server.exitCode === null) server.kill("SIGKILL");
      await test.drop();
    }
  }, 60_000);
});

describe.runIf(databaseKinds().includes("postgres"))("npm run events:dispatch as a worker process", () => {
  it("killed mid-dispatch, the rest is delivered exactly once after a restart", async () => {
    const { spawn } = await import("node:child_process");
    const test = await createTestDatabase("postgres");
    const posthog = await new FakePostHog().start();
    const url = (test.target as { url: string }).url;
    const start = () =>
      spawn(process.execPath, ["--import", "tsx", "scripts/events-dispatch.ts"], {
        env: {
          ...process.env,
          DATABASE_URL: url,
          POSTHOG_API_KEY: "phc_test",
          POSTHOG_HOST: posthog.url,
          EVENTS_LEASE_SECONDS: "2",
          LOG_LEVEL: "silent",
        },
        stdio: "ignore",
      });
    try {
      await writeEvents(test.db, 250);
      posthog.mode = "stall";
      const worker = start();
      await expect.poll(() => posthog.requests, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      worker.kill("SIGKILL");
      await new Promise((resolve) => worker.once("exit", resolve));
      posthog.mode = "ok";
      const restarted = start();
      try {
        await expect
          .poll(() => test.db.event.count({ where: { deliveryStatus: "DELIVERED" } }), { timeout: 60_000 })
          .toBe(250);
      } finally {
        restarted.kill("SIGTERM");
        await new Promise((resolve) => restarted.once("exit", resolve));
      }
      expect(posthog.events).toHaveLength(250);
      expect(posthog.uuidCounts().size).toBe(250);
    } finally {
      await posthog.stop();
      await test.drop();
    }
  }, 120_000);
});
