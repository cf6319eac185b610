import { describe, expect, it } from "vitest";
import {
  type Destination,
  offer,
  PartialDelivery,
  RefusedDelivery,
  refusesContent,
  SPLIT_BUDGET,
} from "@/server/events/delivery";
import type { OutboxEvent } from "@/server/events/outbox";

const events = (count: number) =>
  Array.from({ length: count }, (_, index) => ({ id: `event-${index}` }) as OutboxEvent);

/** A destination that refuses any request holding a bad event, and records what it took. */
function refusing(bad: Set<string>, options: { perPost?: number } = {}) {
  const taken: string[] = [];
  const destination: Destination & { requests: number; taken: string[] } = {
    name: "test",
    requests: 0,
    taken,
    async deliver(batch) {
      // Like the webhook: posts of `perPost`, the earlier ones taken when a later one is refused.
      const perPost = options.perPost ?? batch.length;
      for (let start = 0; start < batch.length; start += perPost) {
        destination.requests += 1;
        const post = batch.slice(start, start + perPost);
        if (post.some((event) => bad.has(event.id))) {
          const refusal = new RefusedDelivery(400, "bad event");
          throw start > 0 ? new PartialDelivery(start, refusal) : refusal;
        }
        taken.push(...post.map((event) => event.id));
      }
    },
  };
  return destination;
}

const ids = (list: { id: string }[]) => list.map((event) => event.id);

describe("offering a batch to a destination", () => {
  it("refuses content only for 400, 413 and 422", () => {
    expect([400, 413, 422].every(refusesContent)).toBe(true);
    expect([200, 401, 403, 404, 408, 429, 500, 502, 503].some(refusesContent)).toBe(false);
  });

  it("isolates each bad event and delivers every other one exactly once, in order", async () => {
    for (const badIndexes of [[0], [999], [500], [3, 4], [0, 998, 999], [17, 444, 445, 900]]) {
      const batch = events(1_000);
      const bad = new Set(badIndexes.map((index) => `event-${index}`));
      const destination = refusing(bad);
      const outcome = await offer(destination, batch, { requests: 1_000 });
      expect(ids(outcome.refused.map((entry) => entry.event)).sort()).toEqual([...bad].sort());
      expect(outcome.failed).toEqual([]);
      expect(ids(outcome.taken)).toEqual(ids(batch).filter((id) => !bad.has(id)));
      expect(destination.taken).toEqual(ids(outcome.taken));
      // Two requests a halving, ten halvings from a thousand to one, for each bad event.
      expect(destination.requests).toBeLessThanOrEqual(1 + 20 * bad.size);
    }
  });

  it("finds one bad event in a thousand within the default budget", async () => {
    const destination = refusing(new Set(["event-321"]));
    const outcome = await offer(destination, events(1_000));
    expect(outcome.taken).toHaveLength(999);
    expect(ids(outcome.refused.map((entry) => entry.event))).toEqual(["event-321"]);
    expect(outcome.refused[0]?.error.status).toBe(400);
  });

  it("spends at most its budget when everything is refused, and leaves the rest to be retried", async () => {
    const batch = events(1_000);
    const destination = refusing(new Set(ids(batch)));
    const outcome = await offer(destination, batch);
    expect(destination.requests).toBeLessThanOrEqual(SPLIT_BUDGET + 1);
    expect(outcome.taken).toEqual([]);
    expect(outcome.refused.length).toBeGreaterThan(0);
    expect(outcome.refused.length + outcome.failed.length).toBe(1_000);
    expect(outcome.error).toBeInstanceOf(RefusedDelivery);
  });

  it("keeps what a partial delivery took and splits only the rest", async () => {
    const destination = refusing(new Set(["event-250"]), { perPost: 100 });
    const outcome = await offer(destination, events(400), { requests: 100 });
    expect(ids(outcome.refused.map((entry) => entry.event))).toEqual(["event-250"]);
    expect(outcome.taken).toHaveLength(399);
    expect(new Set(destination.taken).size).toBe(399);
    expect(destination.taken).toHaveLength(399);
  });

  it("stops splitting when the destination fails otherwise: the rest is retried, nothing refused", async () => {
    let calls = 0;
    const destination: Destination = {
      name: "flaky",
      async deliver() {
        calls += 1;
        throw calls === 1 ? new RefusedDelivery(400, "bad event") : new Error("503");
      },
    };
    const outcome = await offer(destination, events(100));
    expect(calls).toBe(2);
    expect(outcome).toMatchObject({ taken: [], refused: [] });
    expect(outcome.failed).toHaveLength(100);
    expect((outcome.error as Error).message).toBe("503");
  });

  it("passes an ordinary failure on without splitting", async () => {
    let calls = 0;
    const destination: Destination = {
      name: "down",
      async deliver() {
        calls += 1;
        throw new Error("unreachable");
      },
    };
    const outcome = await offer(destination, events(10));
    expect(calls).toBe(1);
    expect(outcome.failed).toHaveLength(10);
  });
});
