import { z } from "zod";
import { OutboxStore } from "../../events/outbox";
import { adminProcedure, createTRPCRouter } from "../trpc";

/** The outbox as admins see it: how many events are in each state, and the dead letters. */
export const adminEventsRouter = createTRPCRouter({
  status: adminProcedure.query(({ ctx }) => new OutboxStore(ctx.db).overview()),

  /** Dead events become due again with a fresh attempt budget (after fixing the destination). */
  redrive: adminProcedure
    .input(z.object({ ids: z.array(z.uuid()).min(1).max(1000).or(z.literal("all")) }))
    .mutation(async ({ ctx, input }) => ({
      redriven: await new OutboxStore(ctx.db).redrive(input.ids, new Date()),
    })),
});
