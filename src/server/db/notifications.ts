import pg from "pg";
import { acquirePGlite, releasePGlite } from "./adapter";
import type { DatabaseTarget } from "./target";

export type Subscription = { close(): Promise<void> };

export type NotificationHandlers = {
  onNotification(payload: string): void;
  /**
   * The connection dropped and was re-established: notifications may have been missed in
   * between, so whoever caches must drop everything.
   */
  onReconnect(): void;
  onError?(error: unknown): void;
};

/**
 * LISTEN on a PostgreSQL channel, for cache invalidation across app instances. On a server this
 * holds one dedicated connection and reconnects with backoff; on PGlite (one process) it uses the
 * embedded instance's own LISTEN.
 */
export async function subscribe(
  target: DatabaseTarget,
  channel: string,
  handlers: NotificationHandlers,
): Promise<Subscription> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`Invalid channel name: ${channel}`);
  if (target.kind === "pglite") {
    const pglite = acquirePGlite(target.dataDir);
    const unsubscribe = await pglite.listen(channel, handlers.onNotification);
    return {
      async close() {
        await unsubscribe();
        await releasePGlite(target.dataDir);
      },
    };
  }

  let closed = false;
  let client: pg.Client | undefined;
  let retryDelay = 250;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async (isReconnect: boolean): Promise<void> => {
    const next = new pg.Client({ connectionString: target.url, connectionTimeoutMillis: 5_000 });
    next.on("notification", (message) => {
      if (message.channel === channel) handlers.onNotification(message.payload ?? "");
    });
    next.on("error", (error) => {
      handlers.onError?.(error);
      scheduleReconnect();
    });
    next.on("end", () => scheduleReconnect());
    await next.connect();
    await next.query(`LISTEN ${channel}`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
    retryDelay = 250;
    if (isReconnect) handlers.onReconnect();
  };

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    client = undefined;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect(true).catch((error) => {
        handlers.onError?.(error);
        retryDelay = Math.min(retryDelay * 2, 10_000);
        scheduleReconnect();
      });
    }, retryDelay);
    retryTimer.unref();
  };

  await connect(false);
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
