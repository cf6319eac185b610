/**
 * Requests that follow a caller's abort signal with a plain listener, instead of undici's
 * finalization registry.
 *
 * Next.js builds every route handler's request as `new NextRequest(url, { signal })`, the signal
 * aborting when the client goes away. Node's `Request` (undici) follows such a signal by
 * registering its own AbortController in a FinalizationRegistry that holds the caller's signal and
 * listener strongly until V8 collects that controller, which only a major collection does, and the
 * registry lets go of them only in a task after it. So every request leaves a registry entry, a
 * signal, its listener map and closures for the old generation to mark. Measured in the HTTP
 * benchmark (2 cores): each major collection marked for 50-68 ms on the request thread with them
 * and 29-34 ms without them, and requests waited behind it for 117-166 ms against 83-95 ms.
 *
 * Following the signal with a listener is what the registry exists to avoid when a signal outlives
 * many requests (one shared shutdown signal, say): each request would add a listener to it for
 * good. Here every followed signal is a request's own and dies with it; `fetch()` keeps undici's own
 * class and is not affected. `REQUEST_SIGNAL=native` (env.ts) keeps Node's class as it is.
 */

import type { Env } from "./env";

type RequestClass = typeof Request;

const FOLLOWING = Symbol.for("verdict.followingRequest");

/** `Native`'s subclass whose requests follow their signal with a listener. */
export function followingRequestClass(Native: RequestClass): RequestClass {
  class FollowingRequest extends Native {
    #signal: AbortSignal | undefined;

    constructor(input: RequestInfo | URL, init?: RequestInit) {
      // The signal to follow, as the Fetch standard picks it: init's when given (null for none),
      // else the input request's.
      let followed: AbortSignal | null = input instanceof Native ? input.signal : null;
      if (init && init.signal !== undefined) followed = init.signal;
      if (!followed || followed.aborted) {
        super(input, init);
        return;
      }
      super(input, { ...init, signal: null });
      const controller = new AbortController();
      const source = followed;
      source.addEventListener("abort", () => controller.abort(source.reason), { once: true });
      this.#signal = controller.signal;
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
