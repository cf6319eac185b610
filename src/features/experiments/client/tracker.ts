import type { TrackedEvent } from "@/features/experiments/core/events";

/**
 * One interface for exposures and conversions. The browser implementation batches them to the
 * server (tRPC `events.track`), flushes on page hide with `navigator.sendBeacon`, and never sends
 * an exposure twice for one subject, experiment and phase from this browser (the server
 * deduplicates again against the assignment itself).
 */
export interface ExperimentTracker {
  exposure(input: { slug: string; variant: string; phase: number | null; subjectKey: string }): void;
  conversion(
    slug: string,
    event: string,
    properties?: Record<string, string | number | boolean | null>,
  ): void;
  flush(): Promise<void>;
}

type Send = (events: TrackedEvent[]) => Promise<unknown>;

const EXPOSED_KEY = "verdict:exposed:v1";
const BATCH_SIZE = 20;
const FLUSH_AFTER_MS = 1000;

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
    if (!queue.length) return;
    const batch = queue;
    queue = [];
    try {
      await options.send(batch);
    } catch {
      // Put the batch back once; page hide or the next flush retries it.
      queue = [...batch, ...queue].slice(0, 200);
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
      if (!queue.length) return;
      const body = JSON.stringify({ events: queue });
      if (navigator.sendBeacon?.(beaconUrl, new Blob([body], { type: "text/plain" }))) queue = [];
    });
  }

  return {
    exposure({ slug, variant, phase, subjectKey }) {
      const key = `${subjectKey}:${slug}:${phase ?? 0}`;
      if (exposed.has(key)) return;
      exposed.add(key);
      saveExposed(exposed);
      enqueue({ type: "exposure", slug, variant, occurredAt: new Date() });
    },
    conversion(slug, event, properties) {
      enqueue({
        type: "conversion",
        slug,
        event,
        properties,
        idempotencyKey: idempotencyKey(),
        occurredAt: new Date(),
      });
    },
    flush,
  };
}
