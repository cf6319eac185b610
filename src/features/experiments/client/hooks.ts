"use client";

import { skipToken } from "@tanstack/react-query";
import { useEffect } from "react";
import { api } from "@/trpc/react";
import { getBrowserTracker, useExperimentContext } from "./provider";

export type ExperimentState = {
  variant: string | null;
  isLoading: boolean;
  isControl: boolean;
  isNewAssignment: boolean;
};

type Options = { userId?: string; teamId?: string; visitorId?: string; skip?: boolean };

/** Reasons for which the subject is really in the test, so an exposure is worth recording. */
const ENROLLED = new Set(["assigned", "sticky"]);

/**
 * The variant of `slug` for the current subject (from the provider), or for explicit ids (asked
 * of the server). Records the exposure once, after the variant has actually been rendered.
 */
export function useExperiment(slug: string, options: Options = {}): ExperimentState {
  const context = useExperimentContext();
  const explicit = Boolean(options.userId || options.teamId || options.visitorId);
  const query = api.experiments.getVariant.useQuery(
    explicit && !options.skip
      ? { slug, userId: options.userId, teamId: options.teamId, visitorId: options.visitorId }
      : skipToken,
  );
  const served = explicit ? query.data : context.assignments[slug];
  const variant = options.skip ? null : (served?.variant ?? null);
  const reason = served?.reason;
  const phase = served?.phase ?? null;
  const subjectKey = options.userId
    ? `user:${options.userId}`
    : options.teamId
      ? `team:${options.teamId}`
      : options.visitorId
        ? `visitor:${options.visitorId}`
        : context.identity.userId
          ? `user:${context.identity.userId}`
          : `visitor:${context.identity.visitorId}`;

  useEffect(() => {
    // Effects run after the commit: the variant is on screen. Forced previews are never recorded.
    if (!variant || !reason || !ENROLLED.has(reason)) return;
    context.tracker.exposure({ slug, variant, phase, subjectKey });
  }, [context.tracker, slug, variant, reason, phase, subjectKey]);

  return {
    variant,
    isLoading: options.skip ? false : explicit ? query.isLoading : context.isLoading,
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

/** Records a conversion for `slug` (counted only for subjects in the test, once per call). */
export function trackConversion(
  slug: string,
  event: string,
  properties?: Record<string, string | number | boolean | null>,
): void {
  getBrowserTracker().conversion(slug, event, properties);
}
