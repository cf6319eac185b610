"use client";

import { skipToken } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { ClientAttributes } from "@/features/experiments/core/inputs";
import type { TargetingRules } from "@/features/experiments/core/targeting-rules";
import { api } from "@/trpc/react";
import { serverErrors } from "./form-errors";

type Kind = "user" | "team" | "visitor";

/** "Would user X / team Y be included, and why": rules as edited, facts from the server. */
export function TargetingPreviewPanel({ slug, rules }: { slug: string; rules: TargetingRules | null }) {
  const [kind, setKind] = useState<Kind>("team");
  const [id, setId] = useState("");
  const [attributesText, setAttributesText] = useState("");
  const [asked, setAsked] = useState<{ kind: Kind; id: string; attributes: ClientAttributes } | null>(null);
  const [attributesError, setAttributesError] = useState<string | null>(null);

  const preview = api.admin.experiments.previewTargeting.useQuery(
    asked && rules
      ? { slug, rules, subject: { kind: asked.kind, id: asked.id }, attributes: asked.attributes }
      : skipToken,
    { staleTime: 0 },
  );
  const error = serverErrors(preview.error).message;

  function ask(event: FormEvent) {
    event.preventDefault();
    // Parsed loosely here; the server validates the attributes and names what is wrong.
    let attributes: ClientAttributes = {};
    if (attributesText.trim()) {
      try {
        attributes = JSON.parse(attributesText) as ClientAttributes;
      } catch {
        setAttributesError('Attributes must be a JSON object, e.g. {"country": "NL"}');
        return;
      }
    }
    setAttributesError(null);
    setAsked({ kind, id: id.trim(), attributes });
  }

  return (
    <section className="card stack" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <form className="stack" onSubmit={ask} aria-label="Targeting preview">
        <div className="row">
          <div>
            <label htmlFor="preview-kind">Subject</label>
            <select id="preview-kind" value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
              <option value="team">Team</option>
              <option value="user">User</option>
              <option value="visitor">Visitor</option>
            </select>
          </div>
          <div className="grow">
            <label htmlFor="preview-id">Id</label>
            <input
              id="preview-id"
              value={id}
              onChange={(event) => setId(event.target.value)}
              autoComplete="off"
            />
          </div>
        </div>
        <div>
          <label htmlFor="preview-attributes">Extra attributes (JSON, optional)</label>
          <textarea
            id="preview-attributes"
            rows={3}
            value={attributesText}
            onChange={(event) => setAttributesText(event.target.value)}
            placeholder='{ "country": "NL" }'
          />
          {attributesError && (
            <p className="field-error" role="alert">
              {attributesError}
            </p>
          )}
        </div>
        <div className="actions">
          <button type="submit" disabled={!id.trim() || !rules}>
            Check
          </button>
        </div>
      </form>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {preview.data && (
        <div className="stack" data-testid="targeting-preview-result" aria-live="polite">
          <p>
            <strong className={preview.data.included ? "ok-text" : "field-error"}>
              {preview.data.included ? "Included" : "Not included"}
            </strong>{" "}
            under the rules as edited.
          </p>
          {preview.data.checks.length === 0 ? (
            <p className="muted">No rules: everyone is included.</p>
          ) : (
            <ul>
              {preview.data.checks.map((check) => (
                <li key={check.rule} className={check.passed ? "check-pass" : "check-fail"}>
                  <strong>{check.rule}</strong>: {check.detail}
                </li>
              ))}
            </ul>
          )}
          {preview.data.notes.map((note) => (
            <p key={note} className="hint">
              {note}
            </p>
          ))}
          {preview.data.wouldGet &&
            (preview.data.wouldGet.reason === "would-assign-randomly" ? (
              <p>
                Under the saved configuration: <strong>enrolled, variant drawn at random</strong> when first
                served (would-assign-randomly).
              </p>
            ) : (
              <p>
                Under the saved configuration:{" "}
                <strong>{preview.data.wouldGet.variant ?? "no variant"}</strong> (
                {preview.data.wouldGet.reason}).
              </p>
            ))}
        </div>
      )}
    </section>
  );
}
