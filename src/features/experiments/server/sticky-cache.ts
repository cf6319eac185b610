import type { CatalogExperiment } from "./catalog";
import type { Subject } from "./subjects";

/** What ASSIGNMENT_CACHE_ENTRIES defaults to: about 6 MB per instance (some 130 bytes an entry). */
export const DEFAULT_STICKY_CACHE_ENTRIES = 50_000;

/**
 * The variants of subjects this instance has already served, so a returning subject costs no
 * database read. Safe across instances because what it holds never changes: an assignment row is
 * written once per experiment, phase and subject (unique keys) and its variant is never updated;
 * a new phase is a new key, and a deleted and recreated experiment is another `createdAt`, so
 * every entry of an experiment that is gone simply stops being asked for. Bounded: the least
 * recently used entries make way (a Map keeps insertion order; a hit moves its entry to the end).
 */
export class StickyAssignmentCache {
  private readonly entries = new Map<string, string>();

  constructor(readonly maxEntries: number) {}

  /** The stored variant, or undefined when this instance has not seen the subject in this phase. */
  get(experiment: CatalogExperiment, subject: Subject): string | undefined {
    if (this.maxEntries <= 0) return undefined;
    const key = cacheKey(experiment, subject);
    const variant = this.entries.get(key);
    if (variant !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, variant);
    }
    return variant;
  }

  /** Remembers a subject's stored variant (only ever a row read from or written to the database). */
  set(experiment: CatalogExperiment, subject: Subject, variant: string): void {
    if (this.maxEntries <= 0) return;
    const key = cacheKey(experiment, subject);
    this.entries.delete(key);
    this.entries.set(key, variant);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

function cacheKey(experiment: CatalogExperiment, subject: Subject): string {
  return `${experiment.slug}\n${experiment.createdAt.getTime()}\n${experiment.config.phase}\n${subject.kind}\n${subject.id}`;
}
