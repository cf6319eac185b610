/**
 * Reads at most `maxBytes` of a request's body, so an oversized one is refused without being
 * held in memory whole: a declared length over the limit is refused before reading, and a body
 * without one (chunked) is cut off as soon as it passes the limit.
 */
export async function readBoundedBody(
  request: Request,
  maxBytes: number,
): Promise<Buffer<ArrayBuffer> | "too-large"> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return "too-large";
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return "too-large";
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
