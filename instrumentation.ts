/** Runs once when a Next.js server starts: the in-app event dispatcher. */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startInAppDispatcher } = await import("./src/server/events/runtime");
  startInAppDispatcher();
}
