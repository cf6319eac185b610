/**
 * Runs once when a Next.js server starts, before it handles a request: the request class, shutdown
 * handling and the in-app event dispatcher.
 */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const [{ getEnv }, { installFollowingRequest }] = await Promise.all([
    import("./src/server/env"),
    import("./src/server/request-signal"),
  ]);
  installFollowingRequest(getEnv().REQUEST_SIGNAL);
  const { handleShutdownSignals, startInAppDispatcher } = await import("./src/server/events/runtime");
  handleShutdownSignals();
  startInAppDispatcher();
}
