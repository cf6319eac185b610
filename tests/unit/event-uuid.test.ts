import { describe, expect, it } from "vitest";
import { eventUuid } from "@/features/experiments/core/events";
import { serverEventUuid } from "@/server/events/event-uuid";

// Uuids PostHog has already received for these keys: a change of derivation would make every
// redelivered event a new one.
const KNOWN: [string, string][] = [
  ["a", "fb6f9102-9720-5b00-abb7-e4d5a148ab60"],
  ["browser:visitor-1:conversion:xyz", "1c7c4c9c-bb49-5e40-8ea8-4f66c28e20ca"],
  ["ünïcödé 🚀 key", "734d3ba0-22e6-514a-b9bb-623c9febb052"],
  ["", "7b267431-7f3d-5cd7-a44e-d173cb32392c"],
];

/** Keys of every length up to 300 and every kind of character, from a fixed seed. */
function seededKeys(count: number): string[] {
  let state = 20261206;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const alphabet = ["a", "Z", "9", ":", "-", " ", "é", "ß", "中", "🚀", "\u0000", "\\", '"'];
  return Array.from({ length: count }, () =>
    Array.from({ length: next() % 300 }, () => alphabet[next() % alphabet.length]).join(""),
  );
}

describe("event uuids", () => {
  it("are the uuids already sent for known keys, from the core and from the server", () => {
    for (const [key, uuid] of KNOWN) {
      expect(eventUuid(key)).toBe(uuid);
      expect(serverEventUuid(key)).toBe(uuid);
    }
  });

  it("are the same from the server's node:crypto digest as from the core's, for any key", () => {
    const keys = seededKeys(5_000);
    expect(keys.map(serverEventUuid)).toEqual(keys.map(eventUuid));
  });

  it("have the version-5 layout with the RFC 4122 variant", () => {
    for (const key of seededKeys(500))
      expect(serverEventUuid(key)).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
  });
});
