"use client";

import { MAX_VARIANTS } from "@/features/experiments/core/variants";
import { FieldError, type FieldErrors } from "./form-errors";
import { formatPercent } from "./format";

export type VariantDraft = { name: string; percentage: number; description?: string };

/** Even split to two decimals; the rounding remainder goes to the first variant (control). */
export function splitEvenly(variants: VariantDraft[]): VariantDraft[] {
  if (variants.length === 0) return variants;
  const share = Math.floor((100 / variants.length) * 100) / 100;
  const remainder = Number((100 - share * variants.length).toFixed(2));
  return variants.map((variant, index) => ({
    ...variant,
    percentage: Number((share + (index === 0 ? remainder : 0)).toFixed(2)),
  }));
}

/**
 * Variant names, percentages and descriptions, with a live total. The form's schema reports the
 * problems; this component shows where they are.
 */
export function VariantsEditor({
  variants,
  onChange,
  errors,
  disabled = false,
}: {
  variants: VariantDraft[];
  onChange: (variants: VariantDraft[]) => void;
  errors: FieldErrors;
  disabled?: boolean;
}) {
  const total = variants.reduce(
    (sum, variant) => sum + (Number.isFinite(variant.percentage) ? variant.percentage : 0),
    0,
  );
  const totalOk = Math.abs(total - 100) <= 0.01;
  const update = (index: number, patch: Partial<VariantDraft>) =>
    onChange(variants.map((variant, i) => (i === index ? { ...variant, ...patch } : variant)));

  return (
    <fieldset disabled={disabled} aria-describedby="variants-total variants-error">
      <legend>Variants</legend>
      <p className="hint">
        Exactly one variant is named <code>control</code>. Percentages add up to 100.
      </p>
      <div className="stack">
        {variants.map((variant, index) => (
          // Rows are positional: the index is the identity while editing.
          // biome-ignore lint/suspicious/noArrayIndexKey: variants have no stable id before saving
          <div className="variant-row" key={index} data-testid={`variant-row-${index}`}>
            <div>
              <label htmlFor={`variant-name-${index}`}>Name</label>
              <input
                id={`variant-name-${index}`}
                value={variant.name}
                onChange={(event) => update(index, { name: event.target.value })}
                aria-invalid={Boolean(errors[`variants.${index}.name`])}
                autoComplete="off"
              />
              <FieldError id={`variant-name-${index}-error`} messages={errors[`variants.${index}.name`]} />
            </div>
            <div>
              <label htmlFor={`variant-percentage-${index}`}>Percent</label>
              <input
                id={`variant-percentage-${index}`}
                type="number"
                inputMode="decimal"
                min={0}
                max={100}
                step={0.01}
                value={Number.isFinite(variant.percentage) ? variant.percentage : ""}
                onChange={(event) => update(index, { percentage: event.target.valueAsNumber })}
              />
            </div>
            <div className="variant-description">
              <label htmlFor={`variant-description-${index}`}>Description</label>
              <input
                id={`variant-description-${index}`}
                value={variant.description ?? ""}
                onChange={(event) => update(index, { description: event.target.value || undefined })}
              />
            </div>
            <button
              type="button"
              className="secondary"
              onClick={() => onChange(variants.filter((_, i) => i !== index))}
              disabled={variants.length <= 2}
              aria-label={`Remove variant ${variant.name || index + 1}`}
            >
              Remove
            </button>
          </div>
        ))}
      </div>
      <div className="row" style={{ marginTop: "0.75rem" }}>
        <button
          type="button"
          className="secondary"
          disabled={variants.length >= MAX_VARIANTS}
          onClick={() => onChange([...variants, { name: `variant-${variants.length}`, percentage: 0 }])}
        >
          Add variant
        </button>
        <button type="button" className="secondary" onClick={() => onChange(splitEvenly(variants))}>
          Split evenly
        </button>
        <p
          id="variants-total"
          aria-live="polite"
          className={totalOk ? "ok-text" : "field-error"}
          data-testid="variants-total"
        >
          Total: {formatPercent(total)} {totalOk ? "✓" : "(must be 100%)"}
        </p>
      </div>
      <FieldError id="variants-error" messages={errors.variants} />
    </fieldset>
  );
}
