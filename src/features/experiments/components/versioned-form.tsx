"use client";

import { type ComponentType, useState } from "react";

export type SavedNotice = { saved: boolean; setSaved: (saved: boolean) => void };

/**
 * A form that starts from the saved version must start afresh when a save refreshes the page, so it
 * is keyed by that version. Its "saved" notice lives one level up: the remount that follows a save
 * would otherwise erase the notice the moment the refreshed page arrives.
 */
export function remountOnNewVersion<Props extends { version: number }>(
  Form: ComponentType<Props & SavedNotice>,
) {
  function VersionedForm(props: Props) {
    const [saved, setSaved] = useState(false);
    return <Form key={props.version} {...props} saved={saved} setSaved={setSaved} />;
  }
  VersionedForm.displayName = `remountOnNewVersion(${Form.displayName ?? Form.name})`;
  return VersionedForm;
}
