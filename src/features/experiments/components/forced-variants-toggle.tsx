"use client";

import { FORCE_PARAM } from "@/features/experiments/core/force";

/**
 * Whether anyone (not only admins) may preview a variant with the QA override. Off by default:
 * an open override lets any visitor pick their variant, which is fine for a test under QA and
 * wrong for one being measured (forced views are never recorded, but they are not the real split).
 */
export function ForcedVariantsToggle({
  slug,
  checked,
  onChange,
}: {
  slug: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <div>
      <label className="choice">
        <input
          type="checkbox"
          name="allowForcedVariants"
          checked={checked}
          onChange={(event) => onChange(event.target.checked)}
          aria-describedby="forced-variants-hint"
        />
        Let anyone preview a variant with <code>?{FORCE_PARAM}=</code>
      </label>
      <p className="hint" id="forced-variants-hint">
        Admins can always preview with{" "}
        <code>
          ?{FORCE_PARAM}={slug || "<slug>"}:&lt;variant&gt;
        </code>
        ; nothing is recorded for a preview. Allow it for everyone only while QA checks the test.
      </p>
    </div>
  );
}
