"use client";

import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import type { ExperimentStatus } from "@/features/experiments/core/config";
import { api } from "@/trpc/react";
import { serverErrors } from "./form-errors";

type Props = {
  slug: string;
  status: ExperimentStatus;
  version: number;
  variants: string[];
  winner: string | null;
};

/**
 * Start, pause, resume and conclude. Concluding asks for the winner in a dialog and says what it
 * means: everyone is served the winner from then on, and no one new is enrolled.
 */
export function LifecycleControls({ slug, status, version, variants, winner }: Props) {
  const router = useRouter();
  const dialog = useRef<HTMLDialogElement>(null);
  const [chosen, setChosen] = useState(winner ?? "control");
  const onSuccess = () => {
    dialog.current?.close();
    router.refresh();
  };
  const transition = api.admin.experiments.updateStatus.useMutation({ onSuccess });
  const setWinner = api.admin.experiments.setWinner.useMutation({ onSuccess });
  const error = serverErrors(transition.error ?? setWinner.error).message;
  const busy = transition.isPending || setWinner.isPending;
  const act = (action: "start" | "pause" | "resume") =>
    transition.mutate({ slug, action, expectedVersion: version });

  return (
    <div className="stack">
      <div className="actions">
        {status === "draft" && (
          <button type="button" onClick={() => act("start")} disabled={busy}>
            Start experiment
          </button>
        )}
        {status === "running" && (
          <button type="button" className="secondary" onClick={() => act("pause")} disabled={busy}>
            Pause
          </button>
        )}
        {status === "paused" && (
          <button type="button" onClick={() => act("resume")} disabled={busy}>
            Resume
          </button>
        )}
        {(status === "running" || status === "paused") && (
          <button
            type="button"
            className="secondary"
            onClick={() => dialog.current?.showModal()}
            disabled={busy}
          >
            Conclude…
          </button>
        )}
        {status === "concluded" && (
          <button
            type="button"
            className="secondary"
            onClick={() => dialog.current?.showModal()}
            disabled={busy}
          >
            Change winner…
          </button>
        )}
      </div>
      {status === "paused" && (
        <p className="hint">
          Paused: subjects already in the test keep their variant; new subjects see the default.
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}

      <dialog ref={dialog} aria-labelledby="conclude-title">
        <form
          method="dialog"
          className="stack"
          onSubmit={(event) => {
            event.preventDefault();
            if (status === "concluded") setWinner.mutate({ slug, winner: chosen, expectedVersion: version });
            else transition.mutate({ slug, action: "conclude", winner: chosen, expectedVersion: version });
          }}
        >
          <h2 id="conclude-title">
            {status === "concluded" ? "Change the winner" : "Conclude the experiment"}
          </h2>
          <p>
            Everyone will see the winning variant from now on, including subjects who were in other variants.
            No one new is enrolled. This cannot be undone; results up to now are kept.
          </p>
          <fieldset>
            <legend>Winner</legend>
            {variants.map((name) => (
              <label key={name} className="choice">
                <input
                  type="radio"
                  name="winner"
                  value={name}
                  checked={chosen === name}
                  onChange={() => setChosen(name)}
                />
                {name}
              </label>
            ))}
          </fieldset>
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="actions">
            <button type="submit" disabled={busy}>
              {status === "concluded" ? `Serve ${chosen}` : `Conclude with ${chosen}`}
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}
