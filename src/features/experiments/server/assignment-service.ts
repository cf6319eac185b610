import { InvalidExperimentConfigError } from "@/features/experiments/core/config";
import {
  type AssignmentReason,
  cryptoRandom,
  decideAssignment,
  type PeekReason,
  peekAssignment,
  servesStoredAssignments,
} from "@/features/experiments/core/decide";
import type { ConsentState } from "@/features/experiments/core/events";
import type { TargetingAttributes } from "@/features/experiments/core/targeting-rules";
import { logger } from "@/server/logger";
import {
  type Enrolment,
  enrolmentRows,
  experimentFor,
  experimentResult,
  exposureEnvelope,
  findFor,
  idsOf,
  isSlugList,
  isSubject,
  result,
  sortRequested,
  toNewAssignment,
} from "./assignment-plan";
import type { CatalogExperiment, CatalogSnapshot, ExperimentCatalog } from "./catalog";
import { assignmentUnavailable, ExperimentError } from "./errors";
import type { ExperimentRepository, StoredAssignment } from "./repository";
import { StickyAssignmentCache } from "./sticky-cache";
import { carriedOverMayServe, type Subject, type SubjectIds } from "./subjects";

export type AssignmentResult = {
  slug: string;
  variant: string | null;
  isControl: boolean;
  isNewAssignment: boolean;
  reason: AssignmentReason;
  /** The phase the assignment belongs to (null when none applies). */
  phase: number | null;
};

/**
 * A peek's answer: like an assignment, except that for a subject a RANDOM experiment would enroll
 * the variant is null with reason `would-assign-randomly` (it is drawn only at enrolment).
 */
export type PeekResult = Omit<AssignmentResult, "reason"> & { reason: PeekReason };

export type GetVariantsOptions = {
  slugs?: readonly string[];
  attributes?: TargetingAttributes;
  /**
   * Experiments the caller renders on the server as it asks: a subject enrolled now is exposed in
   * the same statement that stores the assignment (its `experiment_viewed` event in the outbox).
   */
  expose?: { slugs: readonly string[]; consent: ConsentState };
};

/** getVariants' answers, and the stored row behind each sticky one it exposes, by slug. */
export type ServedVariants = {
  results: Record<string, AssignmentResult>;
  stickyRows: Map<string, StoredAssignment>;
};

type Deps = {
  random?: () => number;
  /** Variants this instance has served (see sticky-cache.ts); a cache of 0 entries reads every time. */
  stickyCache?: StickyAssignmentCache;
};

/**
 * Serves variants. Reads configurations from the in-memory catalog, so a returning subject costs
 * one indexed read (none when this instance served them before: the sticky cache) and a new one a
 * read and one insert that cannot duplicate (concurrent first requests converge on the row that
 * won). Database failures surface as ASSIGNMENT_UNAVAILABLE, never as "experiment off".
 */
export class AssignmentService {
  private readonly random: () => number;
  private readonly stickyCache: StickyAssignmentCache;

  constructor(
    private readonly repository: ExperimentRepository,
    private readonly catalog: ExperimentCatalog,
    deps: Deps = {},
  ) {
    this.random = deps.random ?? cryptoRandom;
    this.stickyCache = deps.stickyCache ?? new StickyAssignmentCache(0);
  }

  getVariantForUser(slug: string, userId: string, attributes?: TargetingAttributes) {
    return this.getVariant(slug, { kind: "user", id: userId }, attributes);
  }

  getVariantForTeam(slug: string, teamId: string, attributes?: TargetingAttributes) {
    return this.getVariant(slug, { kind: "team", id: teamId }, attributes);
  }

  getVariantForVisitor(slug: string, visitorId: string, attributes?: TargetingAttributes) {
    return this.getVariant(slug, { kind: "visitor", id: visitorId }, attributes);
  }

  /** The subject's variant, enrolling them when the rules say so. */
  async getVariant(
    slug: string,
    subject: Subject,
    attributes: TargetingAttributes = {},
  ): Promise<AssignmentResult> {
    const experiment = await this.requireExperiment(slug, subject);
    if (!experiment) return result(slug, null, "unknown-experiment", null);
    const { config } = experiment;
    const existing = await this.existingVariant(experiment, subject);
    const decision = decideAssignment(experiment, subject.id, existing, attributes, this.random);
    if (!decision.enroll || !decision.variant)
      return result(slug, decision.variant, decision.reason, config.phase);

    const [inserted] = await this.guard(slug, () =>
      this.repository.insertAssignments([toNewAssignment(experiment, subject, decision.variant as string)]),
    );
    if (inserted) {
      this.stickyCache.set(experiment, subject, inserted.variant);
      return result(slug, inserted.variant, "assigned", config.phase, true);
    }
    // Another request enrolled this subject first: serve what it stored.
    const winner = await this.guard(slug, () => this.repository.findAssignment(slug, config.phase, subject));
    if (!winner)
      throw assignmentUnavailable(slug, new Error("assignment vanished after a conflicting insert"));
    this.stickyCache.set(experiment, subject, winner.variant);
    return result(slug, winner.variant, "sticky", config.phase);
  }

  /**
   * What the subject has or would get, without enrolling them: previews, support, analysis. A
   * subject a RANDOM experiment would enroll has no variant yet (`would-assign-randomly`).
   */
  async peekVariant(
    slug: string,
    subject: Subject,
    attributes: TargetingAttributes = {},
  ): Promise<PeekResult> {
    const experiment = await this.requireExperiment(slug, subject);
    if (!experiment) return result(slug, null, "unknown-experiment", null);
    const existing = await this.existingVariant(experiment, subject);
    const { variant, reason } = peekAssignment(experiment, subject.id, existing, attributes);
    return result(slug, variant, reason, experiment.config.phase);
  }

  /**
   * Every experiment (or just `slugs`) for one subject or one request's subjects, in one read for
   * existing assignments and one batched insert for new ones. Each experiment uses the id of its
   * scope; an experiment of a scope with no id answers `missing-subject`. Both call shapes work:
   * `getVariants({ kind: "visitor", id }, ["slug"], attributes?)` (the issue's) and
   * `getVariants({ visitorId, userId }, { slugs, attributes })` (a request with several ids).
   */
  async getVariants(
    who: Subject | SubjectIds,
    selection: readonly string[] | GetVariantsOptions = {},
    attributes?: TargetingAttributes,
  ): Promise<Record<string, AssignmentResult>> {
    const ids = isSubject(who) ? idsOf(who) : who;
    const options: GetVariantsOptions = isSlugList(selection)
      ? { slugs: selection, attributes }
      : { ...selection, attributes: selection.attributes ?? attributes };
    return (await this.variantsFor(ids, options)).results;
  }

  /**
   * getVariants for a request's ids, with the stored rows behind the sticky answers of the
   * experiments it exposes: what the server-rendered exposure path needs to expose them without
   * reading them again.
   */
  getVariantsWithRows(ids: SubjectIds, options: GetVariantsOptions = {}): Promise<ServedVariants> {
    return this.variantsFor(ids, options);
  }

  /**
   * Experiments in `options.expose` are read from the database (exposing needs the row's
   * `firstExposedAt`, which the sticky cache does not hold); the others answer from the cache first.
   */
  private async variantsFor(ids: SubjectIds, options: GetVariantsOptions): Promise<ServedVariants> {
    const snapshot = await this.snapshot("(all)");
    const attributes = options.attributes ?? {};
    const results: Record<string, AssignmentResult> = {};
    const stickyRows = new Map<string, StoredAssignment>();
    const candidates = sortRequested(snapshot, options.slugs, ids, results);

    const cached = new Map<string, string>();
    const slugsToRead: string[] = [];
    for (const { experiment, subject } of candidates) {
      if (!servesStoredAssignments(experiment)) continue;
      const hit = options.expose?.slugs.includes(experiment.slug)
        ? undefined
        : this.cachedVariant(experiment, subject, ids);
      if (hit === undefined) slugsToRead.push(experiment.slug);
      else cached.set(experiment.slug, hit);
    }
    const stored = slugsToRead.length
      ? await this.guard("(all)", () => this.repository.findAssignmentsForSubjects(ids, slugsToRead))
      : [];

    const enrolments: Enrolment[] = [];
    for (const { experiment, subject } of candidates) {
      const existing = findFor(stored, experiment, subject, ids.userId);
      if (existing) this.remember(experiment, subject, ids, existing.variant);
      const decision = decideAssignment(
        experiment,
        subject.id,
        existing?.variant ?? cached.get(experiment.slug) ?? null,
        attributes,
        this.random,
      );
      if (existing && decision.reason === "sticky") stickyRows.set(experiment.slug, existing);
      results[experiment.slug] = experimentResult(experiment, decision.variant, decision.reason);
      if (decision.enroll && decision.variant)
        enrolments.push({ experiment, subject, variant: decision.variant });
    }
    if (!enrolments.length) return { results, stickyRows };

    const inserted = await this.guard("(all)", () =>
      this.repository.insertAssignments(
        enrolmentRows(enrolments, options.expose),
        exposureEnvelope(options.expose),
      ),
    );
    const lost: typeof enrolments = [];
    for (const enrolment of enrolments) {
      const { experiment, subject } = enrolment;
      const row = findFor(inserted, experiment, subject);
      if (!row) {
        lost.push(enrolment);
        continue;
      }
      this.remember(experiment, subject, ids, row.variant);
      results[experiment.slug] = experimentResult(experiment, row.variant, "assigned", true);
    }
    if (lost.length) {
      const winners = await this.guard("(all)", () =>
        this.repository.findAssignmentsForSubjects(
          ids,
          lost.map((e) => e.experiment.slug),
        ),
      );
      for (const { experiment, subject } of lost) {
        const winner = findFor(winners, experiment, subject);
        if (!winner)
          throw assignmentUnavailable(
            experiment.slug,
            new Error("assignment vanished after a conflicting insert"),
          );
        this.remember(experiment, subject, ids, winner.variant);
        results[experiment.slug] = experimentResult(experiment, winner.variant, "sticky");
        stickyRows.set(experiment.slug, winner);
      }
    }
    return { results, stickyRows };
  }

  private async requireExperiment(slug: string, subject: Subject): Promise<CatalogExperiment | null> {
    return experimentFor(await this.snapshot(slug), slug, subject);
  }

  private async existingVariant(experiment: CatalogExperiment, subject: Subject): Promise<string | null> {
    if (!servesStoredAssignments(experiment)) return null;
    const cached = this.stickyCache.get(experiment, subject);
    if (cached !== undefined) return cached;
    const row = await this.guard(experiment.slug, () =>
      this.repository.findAssignment(experiment.slug, experiment.config.phase, subject),
    );
    if (row) this.stickyCache.set(experiment, subject, row.variant);
    return row?.variant ?? null;
  }

  /**
   * Where a carried-over row may serve instead of the subject's own, and such a row can appear at
   * any sign-in, answers always come from the database and are not remembered under the subject.
   */
  private cachedVariant(experiment: CatalogExperiment, subject: Subject, ids: SubjectIds) {
    if (carriedOverMayServe(subject, ids.userId)) return undefined;
    return this.stickyCache.get(experiment, subject);
  }

  private remember(experiment: CatalogExperiment, subject: Subject, ids: SubjectIds, variant: string) {
    if (carriedOverMayServe(subject, ids.userId)) return;
    this.stickyCache.set(experiment, subject, variant);
  }

  private snapshot(slug: string): Promise<CatalogSnapshot> {
    return this.guard(slug, () => this.catalog.getSnapshot());
  }

  /** Database failures become a typed, logged error; domain errors pass through unchanged. */
  private async guard<T>(slug: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ExperimentError || error instanceof InvalidExperimentConfigError) throw error;
      logger.error("assignment storage failed", { slug, error: String(error) });
      throw assignmentUnavailable(slug, error);
    }
  }
}
