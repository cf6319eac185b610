import type { PrismaClient } from "@/generated/prisma/client";
import { logger } from "../logger";
import { type DeliveryOutcome, type Destination, DISPATCH_DEFAULTS, messageOf, offer } from "./delivery";
import { type BatchSettlement, type OutboxEvent, OutboxStore } from "./outbox";

export type DispatcherOptions = {
  batchSize?: number;
  /**
   * Batches in flight at once. Claims never overlap (SKIP LOCKED), so a second loop claims and
   * marks in the database while the first waits on a destination. On PostgreSQL each batch in
   * flight holds a pooled connection (its transaction) until it is settled.
   */
  concurrency?: number;
  /**
   * How long a claimed batch stays reserved for this dispatcher on an embedded database (PGlite),
   * whose claims are leases; on PostgreSQL the batch is locked for as long as its delivery lasts.
   */
  leaseMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long an idle loop waits before looking again. */
  idleMs?: number;
  now?: () => Date;
  random?: () => number;
};

/** `dead` counts the events given up on, `refused` among them those a destination refused outright. */
export type DispatchResult = {
  claimed: number;
  delivered: number;
  retried: number;
  dead: number;
  refused: number;
};

/** Exponential backoff with full jitter: attempt n waits up to base·2^(n−1), capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Delivers the outbox in batches (up to 1,000 events, two in flight, at least every second while
 * busy). Safe with several dispatchers on one database (see OutboxStore: locked or leased claims);
 * delivery is at least once and made idempotent downstream by each event's uuid. Stopping
 * finishes the batches in flight.
 */
export class EventDispatcher {
  private readonly store: OutboxStore;
  private readonly options: Required<DispatcherOptions>;
  private running: Promise<void> | null = null;
  private stopping = false;
  private readonly sleepers = new Set<() => void>();

  constructor(
    db: PrismaClient,
    private readonly destinations: Destination[],
    options: DispatcherOptions = {},
  ) {
    this.store = new OutboxStore(db);
    this.options = {
      // A claim's own costs (a transaction, two statements, a PostHog client and its POST) are
      // the same for 10 events as for 1,000, and so are the awaits, which on a server's busy event
      // loop each wait behind the requests: in the ingest benchmark 1,000 delivered about 40%
      // more per second than 100 as a worker, and five times as many inside the server. PostHog
      // gets the claim in one request (posthog-node halves it on 413), a webhook in POSTs of 100;
      // a failure reschedules what not every destination took (see deliver), and PostHog drops
      // by uuid the copies it already had.
      ...DISPATCH_DEFAULTS,
      maxAttempts: 12,
      baseDelayMs: 1_000,
      maxDelayMs: 10 * 60_000,
      idleMs: 1_000,
      now: () => new Date(),
      random: Math.random,
      ...options,
    };
  }

  /** Claims one batch and delivers it to every destination. */
  async dispatchOnce(): Promise<DispatchResult> {
    const { batchSize, leaseMs, now } = this.options;
    return this.store.withBatch(batchSize, now(), leaseMs, (batch, settle) => this.deliver(batch, settle));
  }

  /**
   * Every destination gets what all those before it took: an event is delivered once every
   * destination has it. What one took before failing (a webhook's earlier POSTs, the halves of a
   * refused batch that went through) is settled as delivered, so a claim of a thousand is not
   * sent again whole for one refused POST or one malformed event. An event a destination refused
   * on its own is given up on at once, with the destination's answer, for an admin to look at.
   */
  private async deliver(batch: OutboxEvent[], settle: BatchSettlement): Promise<DispatchResult> {
    const { maxAttempts, baseDelayMs, maxDelayMs, now, random } = this.options;
    if (!batch.length) return { claimed: 0, delivered: 0, retried: 0, dead: 0, refused: 0 };
    let accepted = batch;
    const failed: OutboxEvent[] = [];
    const refused: DeliveryOutcome["refused"] = [];
    let firstError: unknown = null;
    for (const destination of this.destinations) {
      if (!accepted.length) break;
      const outcome = await offer(destination, accepted);
      accepted = outcome.taken;
      failed.push(...outcome.failed);
      refused.push(...outcome.refused);
      if (outcome.failed.length) firstError ??= outcome.error;
    }
    if (accepted.length)
      await settle.delivered(
        accepted.map((event) => event.id),
        now(),
      );
    for (const [message, events] of byMessage(refused))
      await settle.failed(
        events.map((event) => ({ id: event.id, dead: true, retryAt: now() })),
        message,
      );
    if (refused.length)
      logger.warn("a destination refused events; given up on them", {
        events: refused.length,
        error: refused[0]?.error.message,
      });
    const result = { claimed: batch.length, delivered: accepted.length, refused: refused.length };
    if (!failed.length) return { ...result, retried: 0, dead: refused.length };
    const message = messageOf(firstError);
    const failures = failed.map((event) => ({
      id: event.id,
      dead: event.attempts >= maxAttempts,
      retryAt: new Date(now().getTime() + backoffDelay(event.attempts, baseDelayMs, maxDelayMs, random)),
    }));
    await settle.failed(failures, message);
    const dead = failures.filter((failure) => failure.dead).length;
    logger.warn("event delivery failed; will retry", {
      events: failed.length,
      delivered: accepted.length,
      dead,
      error: message,
    });
    return { ...result, retried: failed.length - dead, dead: dead + refused.length };
  }

  /** Runs until {@link stop}: full batches back to back, otherwise a look every `idleMs`. */
  start(): void {
    if (this.running) return;
    this.stopping = false;
    const loops = Array.from({ length: Math.max(1, this.options.concurrency) }, () => this.loop());
    this.running = Promise.all(loops).then(() => {});
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let result: DispatchResult | null = null;
      try {
        result = await this.dispatchOnce();
      } catch (error) {
        logger.error("event dispatcher could not reach the outbox", { error: String(error) });
      }
      if (this.stopping) break;
      if (!result || result.claimed < this.options.batchSize) await this.sleep(this.options.idleMs);
    }
  }

  /** Asks the loops to look now (after new events were written, say). */
  poke(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Stops after the batches in flight have been delivered (or recorded as failed). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.poke();
    await this.running;
    this.running = null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref?.();
      this.sleepers.add(wake);
    });
  }
}

/** Refused events by the destination's answer: each answer is recorded on its own events. */
function byMessage(refused: DeliveryOutcome["refused"]): Map<string, OutboxEvent[]> {
  const groups = new Map<string, OutboxEvent[]>();
  for (const { event, error } of refused) {
    const group = groups.get(error.message);
    if (group) group.push(event);
    else groups.set(error.message, [event]);
  }
  return groups;
}
