"use client";

import type { ExperimentConfig } from "@/features/experiments/core/config";

/** The choices that fix how subjects are split; they may change only while the test is a draft. */
export type ExperimentDesign = Pick<ExperimentConfig, "scope" | "assignmentType" | "hashing">;

/** Element ids per design field: each form keeps its own, since labels and tests address them. */
type ExperimentDesignIds = Record<keyof ExperimentDesign, string>;

// A Record keyed by the field's enum makes the compiler ask for a label when the schema gains a value.
type DesignChoice = {
  [Field in keyof ExperimentDesign]: {
    field: Field;
    label: string;
    options: Record<ExperimentDesign[Field], string>;
  };
}[keyof ExperimentDesign];

const DESIGN_CHOICES: DesignChoice[] = [
  {
    field: "scope",
    label: "Who is assigned",
    options: {
      visitor: "Visitors (anonymous cookie)",
      user: "Users (signed in)",
      team: "Teams (every member sees the same)",
    },
  },
  {
    field: "assignmentType",
    label: "Assignment",
    options: { deterministic: "Deterministic (hash of the id)", random: "Random (stored at first sight)" },
  },
  {
    field: "hashing",
    label: "Hashing",
    options: {
      "growthbook-v2": "GrowthBook v2 (default)",
      posthog: "PostHog-compatible (same as a PostHog flag with this key)",
    },
  },
];

/**
 * The three design selects as cells of the caller's grid, so the create form can put more fields
 * beside them and the edit form can leave them out once the test has started.
 */
export function ExperimentDesignSelects({
  ids,
  design,
  onChange,
}: {
  ids: ExperimentDesignIds;
  design: ExperimentDesign;
  onChange: (design: ExperimentDesign) => void;
}) {
  return DESIGN_CHOICES.map(({ field, label, options }) => (
    <div key={field}>
      <label htmlFor={ids[field]}>{label}</label>
      <select
        id={ids[field]}
        value={design[field]}
        // The select offers only this field's options, so its value is one of the field's enum values.
        onChange={(event) => onChange({ ...design, [field]: event.target.value } as ExperimentDesign)}
      >
        {Object.entries(options).map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </div>
  ));
}

export function DescriptionField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return <TextareaField id={id} label="Description" rows={2} value={value} onChange={onChange} />;
}

export function TextareaField({
  id,
  label,
  rows,
  value,
  onChange,
  hint,
}: {
  id: string;
  label: string;
  rows: number;
  value: string;
  onChange: (value: string) => void;
  hint?: string;
}) {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <textarea id={id} rows={rows} value={value} onChange={(event) => onChange(event.target.value)} />
      {hint && <p className="hint">{hint}</p>}
    </div>
  );
}
