/** Talking to a running app the way browsers do: tRPC queries and the visitor cookie. */

export const visitorCookie = (visitorId: string, extra = "") => ({
  cookie: `verdict_vid=${visitorId}${extra ? `; ${extra}` : ""}`,
});

/** The URL path of a tRPC query (superjson's `{ json }` envelope, no batching). */
export function trpcQueryPath(procedure: string, input?: unknown): string {
  const query = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  return `/api/trpc/${procedure}${query}`;
}

export const getVariantsPath = (visitorId: string, slugs: string[]) =>
  trpcQueryPath("experiments.getVariants", { visitorId, slugs });

/** The running visitor-scoped experiments, as the public API lists them. */
export async function runningVisitorExperiments(url: string): Promise<string[]> {
  const response = await fetch(`${url}${trpcQueryPath("experiments.listActiveExperiments")}`);
  if (!response.ok) throw new Error(`listActiveExperiments answered ${response.status}`);
  const body = (await response.json()) as {
    result: { data: { json: { slug: string; scope: string; status: string }[] } };
  };
  return body.result.data.json
    .filter((experiment) => experiment.scope === "visitor" && experiment.status === "running")
    .map((experiment) => experiment.slug)
    .sort();
}

/**
 * Assigns every visitor to `slugs` through the API before a run, so the run's requests find
 * them enrolled. Retries what fails (a busy machine times out now and then).
 */
export async function preassignVisitors(url: string, visitors: string[], slugs: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < visitors.length) {
      const visitorId = visitors[next++] as string;
      for (let attempt = 1; ; attempt += 1) {
        const response = await fetch(`${url}${getVariantsPath(visitorId, slugs)}`, {
          headers: visitorCookie(visitorId),
        }).catch(() => null);
        await response?.arrayBuffer();
        if (response?.ok) break;
        if (attempt === 5) {
          throw new Error(`could not assign visitor ${visitorId} (${response?.status ?? "no answer"})`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
