"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useId, useState } from "react";
import { experimentUpdateSchema } from "@/features/experiments/core/admin-inputs";
import { type AnalysisSettings, REVENUE_METRIC } from "@/features/experiments/core/config";
import { api } from "@/trpc/react";
import { errorsUnder, FieldError, serverErrors, zodFieldErrors } from "./form-errors";
import { remountOnNewVersion, type SavedNotice } from "./versioned-form";

type Props = { slug: string; version: number; settings: AnalysisSettings; conversionEvents: string[] };

/** How the results are read: the primary metric, guardrails, the plan and the statistics. */
function AnalysisSettingsFields({
  slug,
  version,
  settings,
  conversionEvents,
  saved,
  setSaved,
}: Props & SavedNotice) {
  const id = useId();
  const router = useRouter();
  const metrics = [...conversionEvents, REVENUE_METRIC];
  const [draft, setDraft] = useState({
    ...settings,
    primaryMetric: settings.primaryMetric ?? metrics[0] ?? REVENUE_METRIC,
    effectPercent: String(Math.round(settings.minDetectableEffect * 1000) / 10),
  });
  const { effectPercent, ...rest } = draft;
  const input = {
    slug,
    expectedVersion: version,
    analysis: {
      ...rest,
      minDetectableEffect: Number(effectPercent) / 100,
      guardrails: rest.guardrails.filter((metric) => metric !== rest.primaryMetric),
      lowerIsBetter: rest.lowerIsBetter.filter((metric) => metrics.includes(metric)),
    },
  };
  const parsed = experimentUpdateSchema.safeParse(input);
  const update = api.admin.experiments.update.useMutation({
    onSuccess: () => {
      setSaved(true);
      router.refresh();
    },
  });
  const server = serverErrors(update.error);
  const errors = { ...zodFieldErrors(parsed.error), ...server.fields };

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (parsed.success) update.mutate(parsed.data);
  }
  const field = (name: string) => `${id}-${name}`;

  return (
    <form className="stack" onSubmit={submit} noValidate aria-label="Analysis settings">
      <div className="grid-2">
        <label htmlFor={field("primary")} className="stack" style={{ gap: 2 }}>
          <span>Primary metric</span>
          <select
            id={field("primary")}
            value={draft.primaryMetric}
            onChange={(event) => setDraft({ ...draft, primaryMetric: event.target.value })}
          >
            {metrics.map((metric) => (
              <option key={metric} value={metric}>
                {metric === REVENUE_METRIC ? "revenue per participant" : metric}
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={field("effect")} className="stack" style={{ gap: 2 }}>
          <span>Minimum detectable effect (% relative)</span>
          <input
            id={field("effect")}
            inputMode="decimal"
            value={draft.effectPercent}
            aria-describedby={field("effect-error")}
            onChange={(event) => setDraft({ ...draft, effectPercent: event.target.value })}
          />
          <FieldError
            id={field("effect-error")}
            messages={errorsUnder(errors, "analysis.minDetectableEffect")}
          />
        </label>
        <label htmlFor={field("correction")} className="stack" style={{ gap: 2 }}>
          <span>Multiple-testing correction</span>
          <select
            id={field("correction")}
            value={draft.correction}
            onChange={(event) =>
              setDraft({ ...draft, correction: event.target.value as AnalysisSettings["correction"] })
            }
          >
            <option value="holm">Holm–Bonferroni (family-wise error)</option>
            <option value="benjamini-hochberg">Benjamini–Hochberg (false discovery rate)</option>
            <option value="none">None</option>
          </select>
        </label>
        <label htmlFor={field("population")} className="stack" style={{ gap: 2 }}>
          <span>Who counts</span>
          <select
            id={field("population")}
            value={draft.population}
            onChange={(event) =>
              setDraft({ ...draft, population: event.target.value as AnalysisSettings["population"] })
            }
          >
            <option value="exposed">Exposed subjects (saw their variant)</option>
            <option value="assigned">Every assigned subject (intent to treat)</option>
          </select>
        </label>
      </div>
      <label className="choice">
        <input
          type="checkbox"
          checked={draft.sequential}
          onChange={(event) => setDraft({ ...draft, sequential: event.target.checked })}
        />
        Sequential testing (safe to look at results any time)
      </label>
      <fieldset>
        <legend>Lower is better (refunds, churn): a rise is the regression</legend>
        {metrics.map((metric) => (
          <label key={metric} className="choice">
            <input
              type="checkbox"
              checked={draft.lowerIsBetter.includes(metric)}
              onChange={(event) =>
                setDraft({
                  ...draft,
                  lowerIsBetter: event.target.checked
                    ? [...draft.lowerIsBetter, metric]
                    : draft.lowerIsBetter.filter((entry) => entry !== metric),
                })
              }
            />
            {metric === REVENUE_METRIC ? "revenue per participant" : metric}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Guardrails: a significant regression is a red flag</legend>
        {metrics
          .filter((metric) => metric !== draft.primaryMetric)
          .map((metric) => (
            <label key={metric} className="choice">
              <input
                type="checkbox"
                checked={draft.guardrails.includes(metric)}
                onChange={(event) =>
                  setDraft({
                    ...draft,
                    guardrails: event.target.checked
                      ? [...draft.guardrails, metric]
                      : draft.guardrails.filter((entry) => entry !== metric),
                  })
                }
              />
              {metric === REVENUE_METRIC ? "revenue per participant" : metric}
            </label>
          ))}
      </fieldset>
      {server.message && !Object.keys(server.fields).length && (
        <p className="error" role="alert">
          {server.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={update.isPending || !parsed.success}>
          {update.isPending ? "Saving…" : "Save analysis settings"}
        </button>
        {saved && (
          <span className="ok-text" role="status">
            Saved
          </span>
        )}
      </div>
    </form>
  );
}

export const AnalysisSettingsForm = remountOnNewVersion(AnalysisSettingsFields);
