import { getEventListeners } from "node:events";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { followingRequestClass, installFollowingRequest } from "@/server/request-signal";

const NativeRequest = globalThis.Request;
const FollowingRequest = followingRequestClass(NativeRequest);

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

const URL_ = "http://localhost/api/trpc/experiments.getVariants";
const tasks = async (count: number) => {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setTimeout(resolve, 0));
};

describe("requests taking their caller's signal as their own", () => {
  it("abort with the followed signal, with its reason", () => {
    const client = new AbortController();
    const request = new FollowingRequest(URL_, { signal: client.signal });
    expect(request.signal.aborted).toBe(false);
    const reason = new Error("client went away");
    client.abort(reason);
    expect(request.signal.aborted).toBe(true);
    expect(request.signal.reason).toBe(reason);
  });

  it("add nothing to the caller's signal, which Node's class gives a listener", () => {
    const client = new AbortController();
    const request = new FollowingRequest(URL_, { signal: client.signal });
    expect(request.signal).toBe(client.signal);
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);
    new NativeRequest(URL_, { signal: client.signal });
    expect(getEventListeners(client.signal, "abort")).toHaveLength(1);
  });

  it("start aborted when the signal already is", () => {
    const request = new FollowingRequest(URL_, { signal: AbortSignal.abort("gone") });
    expect(request.signal.aborted).toBe(true);
    expect(request.signal.reason).toBe("gone");
  });

  it("follow the input request's signal unless init names another, or null", () => {
    const client = new AbortController();
    const original = new FollowingRequest(URL_, { signal: client.signal });
    const copy = new FollowingRequest(original);
    const detached = new FollowingRequest(original, { signal: null });
    const other = new AbortController();
    const redirected = new FollowingRequest(original, { signal: other.signal });
    client.abort();
    expect(copy.signal.aborted).toBe(true);
    expect(detached.signal.aborted).toBe(false);
    expect(redirected.signal.aborted).toBe(false);
    other.abort();
    expect(redirected.signal.aborted).toBe(true);
  });

  it("keep everything else a request carries", async () => {
    const client = new AbortController();
    const request = new FollowingRequest(URL_, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "verdict_vid=v1" },
      body: JSON.stringify({ events: [] }),
      signal: client.signal,
    });
    expect(request.method).toBe("POST");
    expect(request.url).toBe(URL_);
    expect(request.headers.get("cookie")).toBe("verdict_vid=v1");
    expect(await request.clone().json()).toEqual({ events: [] });
    expect(await request.text()).toBe('{"events":[]}');
  });

  it("hand their signal on to clones", () => {
    const client = new AbortController();
    const clone = new FollowingRequest(URL_, { signal: client.signal }).clone();
    client.abort();
    expect(clone.signal.aborted).toBe(true);
  });

  it("are requests to instanceof, as are the ones Node's class makes", () => {
    expect(new FollowingRequest(URL_)).toBeInstanceOf(NativeRequest);
    expect(new NativeRequest(URL_)).toBeInstanceOf(FollowingRequest);
    expect({ url: URL_ }).not.toBeInstanceOf(FollowingRequest);
    expect(FollowingRequest.name).toBe("Request");
  });

  it("let a request's signal go in the first major collection; Node's class holds it until the next", async () => {
    // Node's Request keeps each followed signal in a finalization registry until a collection has
    // found its own controller dead and a task after it has run: one collection later than needed.
    const survivors = async (RequestClass: typeof Request) => {
      let collected = 0;
      const watch = new FinalizationRegistry(() => {
        collected += 1;
      });
      const COUNT = 200;
      (() => {
        for (let index = 0; index < COUNT; index += 1) {
          const client = new AbortController();
          watch.register(client.signal, index);
          new RequestClass(URL_, { signal: client.signal });
        }
      })();
      collectGarbage();
      await tasks(5);
      return COUNT - collected;
    };
    expect(await survivors(FollowingRequest)).toBe(0);
    expect(await survivors(NativeRequest)).toBe(200);
  });
});

describe("installing the following class", () => {
  it("replaces Request once, and not at all when asked for Node's own", () => {
    const scope = { Request: NativeRequest };
    expect(installFollowingRequest("native", scope)).toBe(false);
    expect(scope.Request).toBe(NativeRequest);
    expect(installFollowingRequest("following", scope)).toBe(true);
    const installed = scope.Request;
    expect(installed).not.toBe(NativeRequest);
    expect(installFollowingRequest("following", scope)).toBe(false);
    expect(scope.Request).toBe(installed);
  });
});
