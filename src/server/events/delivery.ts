import type { OutboxEvent } from "./outbox";

/**
 * Somewhere events go. `deliver` resolves when the destination accepted the whole batch; it
 * rejects with {@link PartialDelivery} when it took the batch's first events and then failed, and
 * with {@link RefusedDelivery} when it refused the events themselves.
 */
export interface Destination {
  readonly name: string;
  deliver(events: OutboxEvent[]): Promise<void>;
}

/** An error's message, whatever was thrown. */
export const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A destination took the first `delivered` events of a batch (in its order), then failed. */
export class PartialDelivery extends Error {
  constructor(
    readonly delivered: number,
    cause: unknown,
  ) {
    super(messageOf(cause), { cause });
    this.name = "PartialDelivery";
  }
}

/**
 * The destination answered that the request itself is wrong (malformed, too large): sending the
 * same events again cannot succeed, unlike after an outage, a timeout or a refused credential.
 * PostHog refuses a whole batch for one bad event in it, without saying which.
 */
export class RefusedDelivery extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RefusedDelivery";
  }
}

/**
 * HTTP answers that refuse the content: 400 (malformed), 413 (too large), 422 (unprocessable).
 * Not 401/403/404 (a key or an address to fix, after which the same events go through), nor 408,
 * 429 or 5xx (try again later).
 */
export function refusesContent(status: number): boolean {
  return status === 400 || status === 413 || status === 422;
}

/**
 * Requests one batch may cost a destination while refused parts are split: enough to find one or
 * two bad events in a thousand (two requests per halving, ten halvings), not a request per event
 * when a destination refuses everything.
 */
export const SPLIT_BUDGET = 48;

/**
 * A dispatcher's claims unless configured otherwise: the defaults of EVENTS_DISPATCH_BATCH_SIZE,
 * EVENTS_DISPATCH_CONCURRENCY and EVENTS_LEASE_SECONDS as well (see the dispatcher for why).
 */
export const DISPATCH_DEFAULTS = { batchSize: 1_000, concurrency: 2, leaseMs: 60_000 } as const;

/** What became of a batch at one destination. */
export type DeliveryOutcome = {
  /** Taken by the destination, in the batch's order. */
  taken: OutboxEvent[];
  /** Not taken for now (an outage, or a refusal the budget left unresolved): to be retried. */
  failed: OutboxEvent[];
  /** Refused on their own, each sent alone: never deliverable as they are. */
  refused: { event: OutboxEvent; error: RefusedDelivery }[];
  /** The first failure of a retried event, for its record. */
  error: unknown;
};

/**
 * Offers events to a destination. A refused batch is halved, and each half offered again, until
 * every refusal is down to the single events that cause it; the rest of the batch goes through.
 * A half that fails for another reason (the destination went away) stops the splitting: what is
 * left is retried later, as the whole batch would have been.
 */
export async function offer(
  destination: Destination,
  events: OutboxEvent[],
  budget = { requests: SPLIT_BUDGET },
): Promise<DeliveryOutcome> {
  budget.requests -= 1;
  try {
    await destination.deliver(events);
    return { taken: events, failed: [], refused: [], error: null };
  } catch (error) {
    const taken =
      error instanceof PartialDelivery ? Math.max(0, Math.min(error.delivered, events.length)) : 0;
    const cause = error instanceof PartialDelivery ? error.cause : error;
    const done = events.slice(0, taken);
    const rest = events.slice(taken);
    if (!(cause instanceof RefusedDelivery) || !rest.length)
      return { taken: done, failed: rest, refused: [], error };
    const [lone] = rest;
    if (rest.length === 1 && lone)
      return { taken: done, failed: [], refused: [{ event: lone, error: cause }], error: null };
    // Each half costs a request: without two left, the rest waits for its retry.
    if (budget.requests < 2) return { taken: done, failed: rest, refused: [], error };
    const middle = Math.ceil(rest.length / 2);
    const first = await offer(destination, rest.slice(0, middle), budget);
    // The destination stopped answering, or the budget ran out: the second half waits as well.
    if (first.failed.length)
      return { ...first, taken: [...done, ...first.taken], failed: [...first.failed, ...rest.slice(middle)] };
    const second = await offer(destination, rest.slice(middle), budget);
    return {
      taken: [...done, ...first.taken, ...second.taken],
      failed: [...first.failed, ...second.failed],
      refused: [...first.refused, ...second.refused],
      error: first.error ?? second.error,
    };
  }
}
