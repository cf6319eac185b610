"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { experimentDraftSchema } from "@/features/experiments/core/admin-inputs";
import { experimentSlugSchema } from "@/features/experiments/core/config";
import { api } from "@/trpc/react";
import { DescriptionField, type ExperimentDesign, ExperimentDesignSelects } from "./experiment-form-fields";
import { ForcedVariantsToggle } from "./forced-variants-toggle";
import { errorsUnder, FieldError, parseList, serverErrors, zodFieldErrors } from "./form-errors";
import { type VariantDraft, VariantsEditor } from "./variants-editor";

const DEFAULT_DESIGN: ExperimentDesign = {
  scope: "visitor",
  assignmentType: "deterministic",
  hashing: "growthbook-v2",
};
const DESIGN_IDS = { scope: "scope", assignmentType: "assignmentType", hashing: "hashing" };

const DEFAULT_VARIANTS: VariantDraft[] = [
  { name: "control", percentage: 50 },
  { name: "treatment", percentage: 50 },
];

/** Waits for typing to pause before checking the slug on the server. */
function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

export function ExperimentCreateForm() {
  const router = useRouter();
  const [slug, setSlug] = useState("");
  const [description, setDescription] = useState("");
  const [design, setDesign] = useState<ExperimentDesign>(DEFAULT_DESIGN);
  const [variants, setVariants] = useState<VariantDraft[]>(DEFAULT_VARIANTS);
  const [trafficPercent, setTrafficPercent] = useState(100);
  const [events, setEvents] = useState("");
  const [allowForcedVariants, setAllowForcedVariants] = useState(false);
  const [submitted, setSubmitted] = useState(false);

  const input = {
    slug,
    description,
    ...design,
    variants,
    trafficPercent,
    conversionEvents: parseList(events),
    allowForcedVariants,
  };
  const parsed = experimentDraftSchema.safeParse(input);
  const errors = zodFieldErrors(parsed.error);

  const slugFormat = experimentSlugSchema.safeParse(slug);
  const debouncedSlug = useDebounced(slug, 250);
  const availability = api.admin.experiments.slugAvailable.useQuery(
    { slug: debouncedSlug },
    { enabled: experimentSlugSchema.safeParse(debouncedSlug).success, staleTime: 0 },
  );
  const slugMessage = useMemo(() => {
    if (!slug) return null;
    if (!slugFormat.success)
      return { ok: false, text: slugFormat.error.issues[0]?.message ?? "Invalid slug" };
    if (debouncedSlug !== slug || availability.isFetching) return { ok: true, text: "Checking…" };
    if (availability.data?.available === false) return { ok: false, text: `"${slug}" is already taken` };
    if (availability.data?.available) return { ok: true, text: `"${slug}" is available` };
    return null;
  }, [slug, slugFormat, debouncedSlug, availability.isFetching, availability.data]);

  const create = api.admin.experiments.create.useMutation({
    onSuccess: (experiment) => router.push(`/admin/experiments/${experiment.slug}`),
  });
  const server = serverErrors(create.error);
  const allErrors = { ...errors, ...server.fields };
  const shown = (field: string) => (submitted ? errorsUnder(allErrors, field) : undefined);

  function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (!parsed.success || availability.data?.available === false) return;
    create.mutate(parsed.data);
  }

  return (
    <form onSubmit={submit} className="stack card" noValidate aria-label="New experiment">
      <div>
        <label htmlFor="slug">Slug</label>
        <input
          id="slug"
          name="slug"
          value={slug}
          onChange={(event) => setSlug(event.target.value.trim())}
          aria-describedby="slug-status"
          aria-invalid={slugMessage ? !slugMessage.ok : undefined}
          autoComplete="off"
          placeholder="checkout-button-color"
          required
        />
        <p id="slug-status" aria-live="polite" className={slugMessage?.ok === false ? "field-error" : "hint"}>
          {slugMessage?.text ?? "Lower-case words joined by hyphens; used in code, cookies and analytics."}
        </p>
      </div>

      <DescriptionField id="description" value={description} onChange={setDescription} />

      <div className="grid-2">
        <ExperimentDesignSelects ids={DESIGN_IDS} design={design} onChange={setDesign} />
        <div>
          <label htmlFor="trafficPercent">Traffic allocation (%)</label>
          <input
            id="trafficPercent"
            type="number"
            min={0}
            max={100}
            step={1}
            value={Number.isFinite(trafficPercent) ? trafficPercent : ""}
            onChange={(event) => setTrafficPercent(event.target.valueAsNumber)}
            aria-describedby="traffic-hint"
          />
          <p className="hint" id="traffic-hint">
            Share of eligible subjects who enter the test; the rest see the default.
          </p>
          <FieldError id="traffic-error" messages={shown("trafficPercent")} />
        </div>
      </div>

      <VariantsEditor
        variants={variants}
        onChange={setVariants}
        errors={submitted ? allErrors : { variants: errors.variants ?? [] }}
      />

      <div>
        <label htmlFor="events">Conversion events</label>
        <input
          id="events"
          value={events}
          onChange={(event) => setEvents(event.target.value)}
          placeholder="signup, cta_click"
          aria-describedby="events-hint"
        />
        <p className="hint" id="events-hint">
          The events that count as a conversion for this test (snake_case, separated by commas).
        </p>
        <FieldError id="events-error" messages={shown("conversionEvents")} />
      </div>
      <ForcedVariantsToggle slug={slug} checked={allowForcedVariants} onChange={setAllowForcedVariants} />

      {server.message && (
        <p className="field-error" role="alert">
          {server.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create draft"}
        </button>
      </div>
    </form>
  );
}
