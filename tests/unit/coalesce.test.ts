import { describe, expect, it } from "vitest";
import { Coalescer } from "@/server/db/coalesce";

/** A coalescer that doubles numbers and records every batch it was asked to run. */
function doubling(maxBatch?: number) {
  const batches: number[][] = [];
  const coalescer = new Coalescer<number, number>(
    async (inputs) => {
      batches.push(inputs);
      return inputs.map((input) => input * 2);
    },
    { maxBatch },
  );
  return { coalescer, batches };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("Coalescer", () => {
  it("runs the calls made in one turn of the event loop as one batch, each getting its own answer", async () => {
    const { coalescer, batches } = doubling();
    const answers = await Promise.all([1, 2, 3].map((input) => coalescer.run(input)));
    expect(answers).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("runs calls of later turns as batches of their own", async () => {
    const { coalescer, batches } = doubling();
    const first = coalescer.run(1);
    await nextTurn();
    const second = coalescer.run(2);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    expect(batches).toEqual([[1], [2]]);
  });

  it("takes calls made while a batch is in flight into the next batch", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batches: number[][] = [];
    const coalescer = new Coalescer<number, number>(async (inputs) => {
      batches.push(inputs);
      await gate;
      return inputs;
    });
    const first = coalescer.run(1);
    await nextTurn();
    const later = [coalescer.run(2), coalescer.run(3)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it("sends a full batch at once and starts another for the calls after it", async () => {
    const { coalescer, batches } = doubling(2);
    const answers = await Promise.all([1, 2, 3, 4, 5].map((input) => coalescer.run(input)));
    expect(answers).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("fails every call of a failed batch with its error, and serves the next batch", async () => {
    let fail = true;
    const coalescer = new Coalescer<number, number>(async (inputs) => {
      if (fail) throw new Error("database unreachable");
      return inputs;
    });
    const calls = [coalescer.run(1), coalescer.run(2)];
    for (const call of calls) await expect(call).rejects.toThrow("database unreachable");
    fail = false;
    expect(await coalescer.run(3)).toBe(3);
  });

  it("with isolateFailures, runs each call of a failed batch alone: only the bad one fails", async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer<number, number>(
      async (inputs) => {
        batches.push(inputs);
        if (inputs.includes(13)) throw new Error(`unlucky batch ${inputs.join()}`);
        return inputs;
      },
      { isolateFailures: true },
    );
    const calls = [coalescer.run(1), coalescer.run(13), coalescer.run(2)];
    expect(await calls[0]).toBe(1);
    await expect(calls[1]).rejects.toThrow("unlucky batch 13");
    expect(await calls[2]).toBe(2);
    expect(batches).toEqual([[1, 13, 2], [1], [13], [2]]);
    // A lone call is not run twice.
    batches.length = 0;
    await expect(coalescer.run(13)).rejects.toThrow("unlucky batch 13");
    expect(batches).toEqual([[13]]);
  });

  it("fails the calls when the batch throws before returning a promise", async () => {
    const coalescer = new Coalescer<number, number>(() => {
      throw new Error("bad statement");
    });
    await expect(coalescer.run(1)).rejects.toThrow("bad statement");
  });

  it("fails the calls rather than answer them wrongly when a batch answers a different number", async () => {
    const coalescer = new Coalescer<number, number>(async (inputs) => inputs.slice(1));
    const calls = [coalescer.run(1), coalescer.run(2)];
    for (const call of calls) await expect(call).rejects.toThrow("a batch of 2 answered 1 times");
  });
});
