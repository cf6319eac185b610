-- DropIndex
DROP INDEX "Event_deliveryStatus_nextAttemptAt_idx";

-- CreateIndex
CREATE INDEX "Event_deliveryStatus_nextAttemptAt_occurredAt_idx" ON "Event"("deliveryStatus", "nextAttemptAt", "occurredAt");
