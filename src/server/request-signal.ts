/**
 * Requests that take a caller's abort signal as their own, instead of following it through
 * undici's finalization registry.
 *
 * Next.js builds every route handler's request as `new NextRequest(url, { signal })`, the signal
 * aborting when the client goes away. Node's `Request` (undici) follows such a signal with a
 * signal of its own, and registers that signal's AbortController in a FinalizationRegistry that
 * holds the caller's signal and listener strongly until V8 collects that controller, which only a
 * major collection does (its scavenges keep weakly held objects), and lets go of them only in a
 * task after it. So every request leaves a registry entry, a signal, its listener map and closures
 * for the old generation to mark. Measured in the HTTP benchmark (2 cores): each major collection
 * marked for 45-64 ms on the request thread with them and 32-40 ms without them.
 *
 * A request's signal can only be aborted through its controller, which no one else holds, so the
 * caller's signal serves as well: it aborts at the same moment with the same reason. Nothing is
 * added to the caller's signal, so one that outlives many requests gathers nothing either.
 * `fetch()` keeps undici's own class and is not affected. `REQUEST_SIGNAL=native` (env.ts) keeps
 * Node's class as it is.
 */

import type { Env } from "./env";

type RequestClass = typeof Request;

const FOLLOWING = Symbol.for("verdict.followingRequest");

/** `Native`'s subclass whose requests take the signal they are given as their own. */
export function followingRequestClass(Native: RequestClass): RequestClass {
  class FollowingRequest extends Native {
    #signal: AbortSignal | undefined;

    constructor(input: RequestInfo | URL, init?: RequestInit) {
      // The signal to follow, as the Fetch standard picks it: init's when given (null for none),
      // else the input request's. An aborted one leaves no registry entry in Node's class either.
      let followed: AbortSignal | null = input instanceof Native ? input.signal : null;
      if (init && init.signal !== undefined) followed = init.signal;
      if (!followed || followed.aborted) {
        super(input, init);
        return;
      }
      super(input, { ...init, signal: null });
      this.#signal = followed;
    }

    override get signal(): AbortSignal {
      return this.#signal ?? super.signal;
    }

    override clone(): Request {
      const copy = super.clone();
      return this.#signal ? new FollowingRequest(copy, { signal: this.#signal }) : copy;
    }

    /** Requests undici makes itself (a `clone()` of Node's class, say) still pass `instanceof Request`. */
    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof Native;
    }
  }
  Object.defineProperty(FollowingRequest, "name", { value: Native.name });
  Object.defineProperty(FollowingRequest, FOLLOWING, { value: true });
  return FollowingRequest;
}

/**
 * Puts the following class in place of `scope.Request`, once. It must run before Next.js defines
 * its request class on top of it: `instrumentation.ts` calls it first thing.
 */
export function installFollowingRequest(
  mode: Env["REQUEST_SIGNAL"],
  scope: { Request: RequestClass } = globalThis,
): boolean {
  if (mode === "native" || FOLLOWING in scope.Request) return false;
  scope.Request = followingRequestClass(scope.Request);
  return true;
}
