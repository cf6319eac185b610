"use client";

import { useState } from "react";
import { api } from "@/trpc/react";
import { annualBillingOfferExperiment, excludeOrganizationTeams } from "./experiment";

/**
 * Creating and starting the test from code instead of the console: the admin tRPC procedures the
 * console itself calls. Admins only (the server checks the session's role on every call); render
 * it under the root layout, which provides the tRPC client.
 */
export function LaunchAnnualBillingOffer() {
  const create = api.admin.experiments.create.useMutation();
  const updateStatus = api.admin.experiments.updateStatus.useMutation();
  const update = api.admin.experiments.update.useMutation();
  const [version, setVersion] = useState<number | null>(null);
  const error = create.error ?? updateStatus.error ?? update.error;

  async function launch() {
    const draft = await create.mutateAsync(annualBillingOfferExperiment);
    const running = await updateStatus.mutateAsync({
      slug: draft.slug,
      action: "start",
      expectedVersion: draft.version,
    });
    setVersion(running.version);
  }

  async function excludeOrganizations() {
    if (version === null) return;
    const edited = await update.mutateAsync(excludeOrganizationTeams(version));
    setVersion(edited.version);
  }

  return (
    <div className="actions">
      <button type="button" onClick={() => void launch().catch(() => {})} disabled={version !== null}>
        Create and start “{annualBillingOfferExperiment.slug}”
      </button>
      <button
        type="button"
        onClick={() => void excludeOrganizations().catch(() => {})}
        disabled={version === null}
      >
        Leave out teams in an organization
      </button>
      {/* The message is written for people: "The slug … is taken", "Admins only", a version conflict… */}
      {error && <p role="alert">{error.message}</p>}
    </div>
  );
}
