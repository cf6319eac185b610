"use client";

import { useRouter } from "next/navigation";
import { api } from "@/trpc/react";
import { serverErrors } from "./form-errors";

export function RedriveButton({ count }: { count: number }) {
  const router = useRouter();
  const redrive = api.admin.events.redrive.useMutation({ onSuccess: () => router.refresh() });
  const error = serverErrors(redrive.error).message;
  return (
    <div className="stack">
      <button
        type="button"
        disabled={count === 0 || redrive.isPending}
        onClick={() => redrive.mutate({ ids: "all" })}
      >
        Re-drive {count} dead event{count === 1 ? "" : "s"}
      </button>
      {redrive.data && <p role="status">{redrive.data.redriven} events are due for delivery again.</p>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
