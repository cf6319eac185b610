/**
 * What `work` settles to, or "timed-out" if it has not after `ms` (the work itself goes on; the
 * timer does not keep the process alive past it).
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | "timed-out"> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timed-out">((resolve) => {
    timer = setTimeout(() => resolve("timed-out"), ms);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
