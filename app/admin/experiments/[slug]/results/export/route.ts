import { resultsInputSchema } from "@/features/experiments/core/admin-inputs";
import { ExperimentError } from "@/features/experiments/server/errors";
import { resultsToCsv } from "@/features/experiments/server/results-csv";
import { getExperimentServices } from "@/features/experiments/server/services";
import { getSession } from "@/server/auth/session";

export const dynamic = "force-dynamic";

function problem(status: number, message: string): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** The results as CSV; admins only, checked here (a route handler is not behind the admin layout). */
export async function GET(request: Request, { params }: { params: Promise<{ slug: string }> }) {
  const session = await getSession();
  if (!session) return problem(401, "Sign in first");
  if (session.user.role !== "ADMIN") return problem(403, "Admins only");
  const { slug } = await params;
  const search = new URL(request.url).searchParams;
  const input = resultsInputSchema.safeParse({
    slug,
    phase: search.get("phase") ? Number(search.get("phase")) : undefined,
    population: search.get("population") || undefined,
  });
  if (!input.success) return problem(400, input.error.issues.map((issue) => issue.message).join("; "));
  try {
    const results = await getExperimentServices().results.results(slug, {
      phase: input.data.phase,
      population: input.data.population,
    });
    return new Response(resultsToCsv(results), {
      headers: {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": `attachment; filename="${slug}-phase-${results.phase}-results.csv"`,
        "Cache-Control": "no-store",
      },
    });
  } catch (error) {
    if (error instanceof ExperimentError && ["EXPERIMENT_NOT_FOUND", "PHASE_NOT_FOUND"].includes(error.code))
      return problem(404, error.message);
    throw error;
  }
}
