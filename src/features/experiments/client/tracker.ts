import type { TrackedEvent } from "@/features/experiments/core/events";

/**
 * One interface for exposures and conversions. The browser implementation batches them to the
 * server (tRPC `events.track`), flushes on page hide with `navigator.sendBeacon`, and never sends
 * an exposure twice for one subject, experiment and phase from this browser (the server
 * deduplicates again against the assignment itself).
 */
/** Explicit ids an event is for; without them it is for the request's own subjects. */
export type TrackedSubject = NonNullable<TrackedEvent["subject"]>;

export interface ExperimentTracker {
  exposure(input: {
    slug: string;
    variant: string;
    phase: number | null;
    subjectKey: string;
    subject?: TrackedSubject;
  }): void;
  conversion(
    slug: string,
    event: string,
    properties?: Record<string, string | number | boolean | null>,
    options?: { subject?: TrackedSubject },
  ): void;
  flush(): Promise<void>;
}

type Send = (events: TrackedEvent[]) => Promise<unknown>;

const EXPOSED_KEY = "verdict:exposed:v1";
const BATCH_SIZE = 20;
/** The server takes at most 50 events a batch (trackEventsInputSchema). */
const MAX_SEND = 50;
/** Events kept for a retry while the server is unreachable; older ones are dropped first. */
const MAX_QUEUED = 200;
const FLUSH_AFTER_MS = 1000;

/**
 * A refusal the same batch would meet again (bad input, payload too large): retrying it would
 * block the queue behind it forever. Rate limits and outages are worth a retry.
 */
function isPermanentRefusal(error: unknown): boolean {
  const status =
    (error as { data?: { httpStatus?: unknown } } | null)?.data?.httpStatus ??
    (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function loadExposed(): Set<string> {
  try {
    return new Set(JSON.parse(window.localStorage.getItem(EXPOSED_KEY) ?? "[]") as string[]);
  } catch {
    return new Set();
  }
}

function saveExposed(keys: Set<string>) {
  try {
    // The newest 500 are enough to stop repeats; the server deduplicates the rest.
    window.localStorage.setItem(EXPOSED_KEY, JSON.stringify([...keys].slice(-500)));
  } catch {
    // Storage unavailable: the server's deduplication still holds.
  }
}

function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

export function createBrowserTracker(options: { send: Send; beaconUrl?: string }): ExperimentTracker {
  let queue: TrackedEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const exposed = typeof window === "undefined" ? new Set<string>() : loadExposed();

  const flush = async () => {
    if (timer) clearTimeout(timer);
    timer = null;
    while (queue.length) {
      const batch = queue.slice(0, MAX_SEND);
      queue = queue.slice(MAX_SEND);
      try {
        await options.send(batch);
      } catch (error) {
        if (isPermanentRefusal(error)) continue;
        // Put the batch back (newest events win when it overflows); the next flush or page hide
        // retries it.
        queue = [...batch, ...queue].slice(-MAX_QUEUED);
        return;
      }
    }
  };

  const enqueue = (event: TrackedEvent) => {
    queue.push(event);
    if (queue.length >= BATCH_SIZE) void flush();
    else timer ??= setTimeout(() => void flush(), FLUSH_AFTER_MS);
  };

  if (typeof window !== "undefined" && options.beaconUrl) {
    const beaconUrl = options.beaconUrl;
    window.addEventListener("pagehide", () => {
      while (queue.length) {
        const body = JSON.stringify({ events: queue.slice(0, MAX_SEND) });
        if (!navigator.sendBeacon?.(beaconUrl, new Blob([body], { type: "text/plain" }))) return;
        queue = queue.slice(MAX_SEND);
      }
    });
  }

  return {
    exposure({ slug, variant, phase, subjectKey, subject }) {
      const key = `${subjectKey}:${slug}:${phase ?? 0}`;
      if (exposed.has(key)) return;
      exposed.add(key);
      saveExposed(exposed);
      enqueue({ type: "exposure", slug, variant, occurredAt: new Date(), ...(subject ? { subject } : {}) });
    },
    conversion(slug, event, properties, conversionOptions) {
      const subject = conversionOptions?.subject;
      enqueue({
        type: "conversion",
        slug,
        event,
        properties,
        idempotencyKey: idempotencyKey(),
        occurredAt: new Date(),
        ...(subject ? { subject } : {}),
      });
    },
    flush,
  };
}
