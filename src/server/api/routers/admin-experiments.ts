import {
  auditLogInputSchema,
  convertFlagSchema,
  deleteExperimentSchema,
  experimentDraftSchema,
  experimentUpdateSchema,
  listExperimentsSchema,
  resultsInputSchema,
  setWinnerSchema,
  slugInputSchema,
  statsInputSchema,
  subjectLookupSchema,
  targetingPreviewSchema,
  updateStatusSchema,
} from "@/features/experiments/core/admin-inputs";
import { adminProcedure, createTRPCRouter } from "../trpc";

const actorOf = (session: { user: { id: string; email?: string | null } }) => ({
  id: session.user.id,
  email: session.user.email ?? null,
});

/** Admin-only experiment management. Every procedure checks the role on the server. */
export const adminExperimentsRouter = createTRPCRouter({
  list: adminProcedure
    .input(listExperimentsSchema)
    .query(({ ctx, input }) => ctx.experiments.admin.list(input)),

  get: adminProcedure.input(slugInputSchema).query(({ ctx, input }) => ctx.experiments.admin.get(input.slug)),

  create: adminProcedure.input(experimentDraftSchema).mutation(({ ctx, input }) => {
    const { slug, description, ...config } = input;
    return ctx.experiments.lifecycle.create({ slug, description, config }, actorOf(ctx.session));
  }),

  update: adminProcedure.input(experimentUpdateSchema).mutation(({ ctx, input }) => {
    const { slug, expectedVersion, variantChange, ...patch } = input;
    return ctx.experiments.lifecycle.update(slug, patch, actorOf(ctx.session), {
      expectedVersion,
      variantChange,
    });
  }),

  updateStatus: adminProcedure.input(updateStatusSchema).mutation(({ ctx, input }) =>
    ctx.experiments.lifecycle.transition(input.slug, input.action, actorOf(ctx.session), {
      winner: input.winner,
      expectedVersion: input.expectedVersion,
    }),
  ),

  setWinner: adminProcedure
    .input(setWinnerSchema)
    .mutation(({ ctx, input }) =>
      ctx.experiments.lifecycle.setWinner(
        input.slug,
        input.winner,
        actorOf(ctx.session),
        input.expectedVersion,
      ),
    ),

  delete: adminProcedure.input(deleteExperimentSchema).mutation(async ({ ctx, input }) => {
    await ctx.experiments.lifecycle.delete(input.slug, actorOf(ctx.session), input.expectedVersion);
    return { deleted: input.slug };
  }),

  getStats: adminProcedure
    .input(statsInputSchema)
    .query(({ ctx, input }) => ctx.experiments.admin.stats(input.slug, input.phase)),

  /** The analysis of one phase (the current one by default): tables, verdict, series. */
  results: adminProcedure
    .input(resultsInputSchema)
    .query(({ ctx, input }) =>
      ctx.experiments.results.results(input.slug, { phase: input.phase, population: input.population }),
    ),

  /** A large test's "Refresh now": its rollups' recent days, recomputed from the event store. */
  refreshResults: adminProcedure
    .input(slugInputSchema)
    .mutation(({ ctx, input }) => ctx.experiments.results.refreshRollups(input.slug)),

  convertFlag: adminProcedure.input(convertFlagSchema).mutation(({ ctx, input }) =>
    ctx.experiments.lifecycle.convertFlag(input.flagSlug, actorOf(ctx.session), {
      scope: input.scope,
      start: input.start,
    }),
  ),

  auditLog: adminProcedure
    .input(auditLogInputSchema)
    .query(({ ctx, input }) => ctx.experiments.admin.auditLog(input.slug, input.limit, input.before)),

  subject: adminProcedure
    .input(subjectLookupSchema)
    .query(({ ctx, input }) => ctx.experiments.admin.subjectAssignments(input)),

  /** Would this subject be included under these (maybe unsaved) rules, and why. */
  previewTargeting: adminProcedure
    .input(targetingPreviewSchema)
    .query(({ ctx, input }) => ctx.experiments.targetingPreview.preview(input)),

  /** Checked as the admin types a new slug. */
  slugAvailable: adminProcedure.input(slugInputSchema).query(async ({ ctx, input }) => ({
    slug: input.slug,
    available: await ctx.experiments.admin.slugAvailable(input.slug),
  })),

  listFlags: adminProcedure.query(({ ctx }) => ctx.experiments.admin.listFlags()),
});
