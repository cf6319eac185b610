"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { api } from "@/trpc/react";
import { serverErrors } from "./form-errors";

/** Deleting needs the slug typed out: assignments go with it (events stay for the record). */
export function DeleteExperiment({ slug, version }: { slug: string; version: number }) {
  const router = useRouter();
  const [typed, setTyped] = useState("");
  const remove = api.admin.experiments.delete.useMutation({
    onSuccess: () => {
      router.push("/admin/experiments");
      router.refresh();
    },
  });
  const error = serverErrors(remove.error).message;
  return (
    <form
      className="stack"
      aria-label="Delete experiment"
      onSubmit={(event) => {
        event.preventDefault();
        remove.mutate({ slug, confirmSlug: typed, expectedVersion: version });
      }}
    >
      <p>
        Deleting removes the experiment and every assignment. Events already recorded stay in the event store.
      </p>
      <div>
        <label htmlFor="confirm-slug">
          Type <code>{slug}</code> to confirm
        </label>
        <input
          id="confirm-slug"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
          autoComplete="off"
        />
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="danger" disabled={typed !== slug || remove.isPending}>
          Delete experiment
        </button>
      </div>
    </form>
  );
}
