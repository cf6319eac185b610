-- DropIndex
DROP INDEX "Event_deliveryStatus_nextAttemptAt_occurredAt_idx";

-- CreateIndex
CREATE INDEX "Event_outbox_idx" ON "Event"("nextAttemptAt", "occurredAt") WHERE ("deliveryStatus" = 'PENDING');
