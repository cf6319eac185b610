"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { type TargetingRules, targetingRulesSchema } from "@/features/experiments/core/targeting-rules";
import { api } from "@/trpc/react";
import { TextareaField } from "./experiment-form-fields";
import { parseList, serverErrors } from "./form-errors";
import { TargetingPreviewPanel } from "./targeting-preview-panel";
import { remountOnNewVersion, type SavedNotice } from "./versioned-form";

const PLANS = ["individual", "teams", "organization"] as const;

/** JSON text → object, or a message saying what is wrong with it. */
function parseJsonObject(text: string): { value: Record<string, unknown> | undefined; error: string | null } {
  if (!text.trim()) return { value: undefined, error: null };
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      return { value: undefined, error: 'The condition must be a JSON object, e.g. {"country": "NL"}' };
    }
    return { value: value as Record<string, unknown>, error: null };
  } catch (error) {
    return { value: undefined, error: `Not valid JSON: ${(error as Error).message}` };
  }
}

/**
 * Who may enter the experiment: plans, teams, organizations, an organization exclusion and a
 * GrowthBook-style attribute condition, all AND-ed. The preview evaluates the rules as edited,
 * before they are saved.
 */
function TargetingFields({
  slug,
  version,
  rules,
  saved,
  setSaved,
}: { slug: string; version: number; rules: TargetingRules } & SavedNotice) {
  const router = useRouter();
  const [plans, setPlans] = useState<string[]>(rules.plans ?? []);
  const [teamIds, setTeamIds] = useState((rules.teamIds ?? []).join("\n"));
  const [organizationIds, setOrganizationIds] = useState((rules.organizationIds ?? []).join("\n"));
  const [excludeOrganizations, setExcludeOrganizations] = useState(rules.excludeOrganizations ?? false);
  const [conditionText, setConditionText] = useState(
    rules.condition ? JSON.stringify(rules.condition, null, 2) : "",
  );

  const condition = parseJsonObject(conditionText);
  const draft = targetingRulesSchema.safeParse({
    ...(plans.length ? { plans } : {}),
    ...(parseList(teamIds).length ? { teamIds: parseList(teamIds) } : {}),
    ...(parseList(organizationIds).length ? { organizationIds: parseList(organizationIds) } : {}),
    ...(excludeOrganizations ? { excludeOrganizations: true } : {}),
    ...(condition.value ? { condition: condition.value } : {}),
  });
  const update = api.admin.experiments.update.useMutation({
    onSuccess: () => {
      setSaved(true);
      router.refresh();
    },
  });
  const server = serverErrors(update.error);

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (!draft.success || condition.error) return;
    update.mutate({ slug, expectedVersion: version, targetingRules: draft.data });
  }

  return (
    <div className="grid-2" style={{ alignItems: "start" }}>
      <form className="card stack" onSubmit={submit} noValidate aria-label="Targeting rules">
        <fieldset>
          <legend>Plans</legend>
          <p className="hint">None checked: every plan.</p>
          {PLANS.map((plan) => (
            <label key={plan} className="choice">
              <input
                type="checkbox"
                checked={plans.includes(plan)}
                onChange={(event) =>
                  setPlans(event.target.checked ? [...plans, plan] : plans.filter((item) => item !== plan))
                }
              />
              {plan}
            </label>
          ))}
        </fieldset>
        <TextareaField
          id="teamIds"
          label="Only these teams"
          rows={3}
          value={teamIds}
          onChange={setTeamIds}
          hint="Team ids, one per line or separated by commas. Empty: every team."
        />
        <TextareaField
          id="organizationIds"
          label="Only these organizations"
          rows={2}
          value={organizationIds}
          onChange={setOrganizationIds}
        />
        <label className="choice">
          <input
            type="checkbox"
            checked={excludeOrganizations}
            onChange={(event) => setExcludeOrganizations(event.target.checked)}
          />
          Exclude everyone who belongs to an organization
        </label>
        <div>
          <label htmlFor="condition">Attribute condition (GrowthBook syntax)</label>
          <textarea
            id="condition"
            rows={6}
            value={conditionText}
            onChange={(event) => setConditionText(event.target.value)}
            placeholder={'{ "country": { "$in": ["NL", "DE"] }, "appVersion": { "$vgte": "2.0.0" } }'}
            aria-invalid={Boolean(condition.error)}
            aria-describedby="condition-error"
          />
          {condition.error && (
            <p className="field-error" id="condition-error" role="alert">
              {condition.error}
            </p>
          )}
        </div>
        {!draft.success && (
          <p className="field-error" role="alert">
            {draft.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}
          </p>
        )}
        {server.message && (
          <p className="field-error" role="alert">
            {server.message}
          </p>
        )}
        {saved && (
          <p className="ok-text" role="status">
            Targeting saved.
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={update.isPending}>
            Save targeting
          </button>
        </div>
      </form>
      <TargetingPreviewPanel slug={slug} rules={draft.success ? draft.data : null} />
    </div>
  );
}

export const TargetingEditor = remountOnNewVersion(TargetingFields);
