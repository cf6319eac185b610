"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "@/trpc/react";
import { serverErrors } from "./form-errors";

/** Turns one flag into a running control/treatment experiment, keeping everyone's experience. */
export function ConvertFlagButton({ flagSlug }: { flagSlug: string }) {
  const router = useRouter();
  const [scope, setScope] = useState<"user" | "team">("user");
  const convert = api.admin.experiments.convertFlag.useMutation({
    onSuccess: (experiment) => router.push(`/admin/experiments/${experiment.slug}`),
  });
  const error = serverErrors(convert.error).message;
  return (
    <form
      className="row"
      aria-label={`Convert ${flagSlug}`}
      onSubmit={(event) => {
        event.preventDefault();
        convert.mutate({ flagSlug, scope, start: true });
      }}
    >
      <div>
        <label htmlFor={`scope-${flagSlug}`}>Per</label>
        <select
          id={`scope-${flagSlug}`}
          value={scope}
          onChange={(event) => setScope(event.target.value as "user" | "team")}
        >
          <option value="user">user</option>
          <option value="team">team</option>
        </select>
      </div>
      <button type="submit" disabled={convert.isPending}>
        Convert to experiment
      </button>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
