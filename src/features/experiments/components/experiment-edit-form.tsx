"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { experimentUpdateSchema } from "@/features/experiments/core/admin-inputs";
import type { ExperimentConfig } from "@/features/experiments/core/config";
import { api } from "@/trpc/react";
import { DescriptionField, type ExperimentDesign, ExperimentDesignSelects } from "./experiment-form-fields";
import { ForcedVariantsToggle } from "./forced-variants-toggle";
import { errorsUnder, FieldError, parseList, serverErrors, zodFieldErrors } from "./form-errors";
import { type VariantDraft, VariantsEditor } from "./variants-editor";
import { remountOnNewVersion, type SavedNotice } from "./versioned-form";

type Props = { slug: string; description: string; version: number; config: ExperimentConfig };

const DESIGN_IDS = { scope: "edit-scope", assignmentType: "edit-assignment", hashing: "edit-hashing" };

const sameVariants = (a: VariantDraft[], b: VariantDraft[]) =>
  a.length === b.length &&
  a.every(
    (variant, i) =>
      variant.name === b[i]?.name &&
      variant.percentage === b[i]?.percentage &&
      (variant.description ?? "") === (b[i]?.description ?? ""),
  );

/**
 * Edits what may change under the lifecycle rules. In a started test, new variants or weights ask
 * how to treat people already assigned; traffic may only grow unless the test is re-randomized.
 */
function ExperimentEditFields({
  slug,
  description: savedDescription,
  version,
  config,
  saved,
  setSaved,
}: Props & SavedNotice) {
  const router = useRouter();
  const started = config.status !== "draft";
  const concluded = config.status === "concluded";
  const [description, setDescription] = useState(savedDescription);
  const [variants, setVariants] = useState<VariantDraft[]>(config.variants);
  const [trafficPercent, setTrafficPercent] = useState(config.trafficPercent);
  const [events, setEvents] = useState(config.conversionEvents.join(", "));
  const [setPersonProperty, setSetPersonProperty] = useState(config.setPersonProperty);
  const [allowForcedVariants, setAllowForcedVariants] = useState(config.allowForcedVariants);
  const [variantChange, setVariantChange] = useState<"keep" | "rerandomize" | null>(null);
  const [design, setDesign] = useState<ExperimentDesign>({
    scope: config.scope,
    assignmentType: config.assignmentType,
    hashing: config.hashing,
  });

  const variantsChanged = !sameVariants(variants, config.variants);
  const needsChoice = started && variantsChanged;
  const trafficLowered = started && trafficPercent < config.trafficPercent;

  const input = {
    slug,
    expectedVersion: version,
    description,
    ...(variantsChanged ? { variants } : {}),
    trafficPercent,
    conversionEvents: parseList(events),
    setPersonProperty,
    allowForcedVariants,
    // The design is fixed once started; only a draft sends it.
    ...(started ? {} : design),
    ...(needsChoice && variantChange ? { variantChange } : {}),
  };
  const parsed = experimentUpdateSchema.safeParse(input);
  const update = api.admin.experiments.update.useMutation({
    onSuccess: () => {
      setSaved(true);
      setVariantChange(null);
      router.refresh();
    },
  });
  const server = serverErrors(update.error);
  const errors = { ...zodFieldErrors(parsed.error), ...server.fields };
  const choiceMissing = needsChoice && !variantChange;
  const trafficRefused = trafficLowered && variantChange !== "rerandomize";

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (!parsed.success || choiceMissing || trafficRefused) return;
    update.mutate(parsed.data);
  }

  return (
    <form className="stack" onSubmit={submit} noValidate aria-label="Edit experiment">
      <DescriptionField id="edit-description" value={description} onChange={setDescription} />

      {!started && (
        <div className="grid-2">
          <ExperimentDesignSelects ids={DESIGN_IDS} design={design} onChange={setDesign} />
        </div>
      )}

      <VariantsEditor variants={variants} onChange={setVariants} errors={errors} disabled={concluded} />
      {concluded && <p className="hint">A concluded experiment keeps its variants.</p>}

      {needsChoice && (
        <fieldset data-testid="variant-change-choice">
          <legend>This test is {config.status}: how should the new split apply?</legend>
          <label className="choice">
            <input
              type="radio"
              name="variantChange"
              checked={variantChange === "keep"}
              onChange={() => setVariantChange("keep")}
            />
            <span>
              <strong>Keep existing assignments.</strong> Subjects already in the test keep their variant;
              only new subjects get the new split. Results so far stay, but they mix two splits. Removing a
              variant is not possible this way.
            </span>
          </label>
          <label className="choice">
            <input
              type="radio"
              name="variantChange"
              checked={variantChange === "rerandomize"}
              onChange={() => setVariantChange("rerandomize")}
            />
            <span>
              <strong>Re-randomize (phase {config.phase + 1}).</strong> Everyone is assigned afresh under the
              new split and results restart from zero; phase {config.phase}'s assignments are kept for
              history.
            </span>
          </label>
          {choiceMissing && (
            <p className="field-error" role="alert">
              Choose how the new split applies.
            </p>
          )}
        </fieldset>
      )}

      <div className="grid-2">
        <div>
          <label htmlFor="edit-traffic">Traffic allocation (%)</label>
          <input
            id="edit-traffic"
            type="number"
            min={started && variantChange !== "rerandomize" ? config.trafficPercent : 0}
            max={100}
            step={1}
            value={Number.isFinite(trafficPercent) ? trafficPercent : ""}
            onChange={(event) => setTrafficPercent(event.target.valueAsNumber)}
            aria-describedby="edit-traffic-hint"
          />
          <p className="hint" id="edit-traffic-hint">
            {started
              ? `Can grow at any time; lowering it below ${config.trafficPercent}% needs a re-randomization.`
              : "Share of eligible subjects who enter the test."}
          </p>
          {trafficRefused && (
            <p className="field-error" role="alert">
              Traffic can only grow while the test is {config.status}.
            </p>
          )}
          <FieldError id="edit-traffic-error" messages={errorsUnder(errors, "trafficPercent")} />
        </div>
        <div>
          <label htmlFor="edit-events">Conversion events</label>
          <input id="edit-events" value={events} onChange={(event) => setEvents(event.target.value)} />
          <FieldError id="edit-events-error" messages={errorsUnder(errors, "conversionEvents")} />
        </div>
      </div>
      <label className="choice">
        <input
          type="checkbox"
          checked={setPersonProperty}
          onChange={(event) => setSetPersonProperty(event.target.checked)}
        />
        Set a PostHog person property with the variant (<code>$feature/{slug}</code>)
      </label>
      <ForcedVariantsToggle slug={slug} checked={allowForcedVariants} onChange={setAllowForcedVariants} />

      {server.message && (
        <p className="field-error" role="alert">
          {server.message}
          {update.error?.data?.code === "CONFLICT" && " Reload the page to see the latest version."}
        </p>
      )}
      {saved && !update.isPending && (
        <p className="ok-text" role="status">
          Saved.
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save changes"}
        </button>
      </div>
    </form>
  );
}

export const ExperimentEditForm = remountOnNewVersion(ExperimentEditFields);
