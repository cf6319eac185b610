/** Runs once when a Next.js server starts: shutdown handling and the in-app event dispatcher. */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { handleShutdownSignals, startInAppDispatcher } = await import("./src/server/events/runtime");
  handleShutdownSignals();
  startInAppDispatcher();
}
