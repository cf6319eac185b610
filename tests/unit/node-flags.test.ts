import { describe, expect, it } from "vitest";
import { serverNodeFlags, v8PoolSizeFor } from "@/server/node-flags";

describe("V8's helper threads for the server", () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 3],
    [5, 4],
    [64, 4],
  ])("leaves one of %i cores to the request thread: %i helpers", (cores, helpers) => {
    expect(v8PoolSizeFor(cores)).toBe(helpers);
  });

  it("passes the pool size before Next.js's script", () => {
    expect(serverNodeFlags(2, undefined)).toEqual(["--v8-pool-size=1"]);
    expect(serverNodeFlags(8, "--max-old-space-size=2048")).toEqual(["--v8-pool-size=4"]);
  });

  it("keeps the operator's own choice in NODE_OPTIONS", () => {
    expect(serverNodeFlags(2, "--v8-pool-size=4")).toEqual([]);
    expect(serverNodeFlags(2, "--max-old-space-size=2048 --v8-pool-size 2")).toEqual([]);
    expect(serverNodeFlags(2, "--v8-pool-sizer=3")).toEqual(["--v8-pool-size=1"]);
  });
});
