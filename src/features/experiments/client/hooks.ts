"use client";

import { skipToken } from "@tanstack/react-query";
import { useEffect } from "react";
import { api } from "@/trpc/react";
import { getBrowserTracker, MissingProviderError, useOptionalExperimentContext } from "./provider";
import type { TrackedSubject } from "./tracker";

export type ExperimentState = {
  variant: string | null;
  isLoading: boolean;
  isControl: boolean;
  isNewAssignment: boolean;
};

export type ExperimentOptions = { userId?: string; teamId?: string; visitorId?: string; skip?: boolean };

/** Reasons for which the subject is really in the test, so an exposure is worth recording. */
const ENROLLED = new Set(["assigned", "sticky"]);

/**
 * The variant of `slug` for the current subject (from the provider), or for explicit ids (asked
 * of the server). Records the exposure once, after the variant has actually been rendered.
 */
export function useExperiment(slug: string, options: ExperimentOptions = {}): ExperimentState {
  const context = useOptionalExperimentContext();
  const { userId, teamId, visitorId } = options;
  const explicit = Boolean(userId || teamId || visitorId);
  if (!context && !explicit) throw new MissingProviderError();
  const query = api.experiments.getVariant.useQuery(
    explicit && !options.skip ? { slug, userId, teamId, visitorId } : skipToken,
  );
  const served = explicit ? query.data : context?.assignments[slug];
  const variant = options.skip ? null : (served?.variant ?? null);
  const reason = served?.reason;
  const phase = served?.phase ?? null;
  const subjectKey = userId
    ? `user:${userId}`
    : teamId
      ? `team:${teamId}`
      : visitorId
        ? `visitor:${visitorId}`
        : context?.identity.userId
          ? `user:${context.identity.userId}`
          : `visitor:${context?.identity.visitorId}`;
  const tracker = context?.tracker ?? getBrowserTracker();

  useEffect(() => {
    // Effects run after the commit: the variant is on screen. Forced previews are never recorded.
    if (!variant || !reason || !ENROLLED.has(reason)) return;
    // Explicit ids travel with the exposure, so it is credited to the subject the variant was
    // asked for (the server checks the caller may speak for it), not to the cookie's visitor.
    const subject: TrackedSubject | undefined = explicit ? { userId, teamId, visitorId } : undefined;
    tracker.exposure({ slug, variant, phase, subjectKey, subject });
  }, [tracker, slug, variant, reason, phase, subjectKey, explicit, userId, teamId, visitorId]);

  return {
    variant,
    isLoading: options.skip ? false : explicit ? query.isLoading : (context?.isLoading ?? true),
    isControl: variant === "control",
    isNewAssignment: served?.isNewAssignment ?? false,
  };
}

/** The current visitor's variant (the cookie-identified visitor of this browser). */
export function useVisitorExperiment(slug: string): ExperimentState {
  return useExperiment(slug);
}

/** Just the variant name: "control" until it is known, so callers always have something to render. */
export function useExperimentVariant(slug: string): string {
  return useExperiment(slug).variant ?? "control";
}

/**
 * Records a conversion for `slug` (counted only for subjects in the test, once per call). Pass
 * `subject` with the same explicit ids given to `useExperiment`, when the hook was given any.
 */
export function trackConversion(
  slug: string,
  event: string,
  properties?: Record<string, string | number | boolean | null>,
  options?: { subject?: TrackedSubject },
): void {
  getBrowserTracker().conversion(slug, event, properties, options);
}
