import {
  isVisitorId,
  newVisitorId,
  readCookie,
  VISITOR_COOKIE,
  VISITOR_STORAGE_KEY,
  visitorCookieString,
} from "@/features/experiments/core/visitor";

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    // Storage can be disabled (privacy modes); the cookie alone still works.
    return null;
  }
}

/**
 * The visitor's id: the cookie (set by the server's proxy on the first response) wins, and is
 * mirrored into localStorage; if the cookie is gone but localStorage kept the id, the cookie is
 * restored from it; a new id is made only when both are missing. Returns null during server
 * rendering, where the server reads the cookie itself.
 */
export function getOrCreateVisitorId(): string | null {
  if (typeof document === "undefined") return null;
  const fromCookie = readCookie(document.cookie, VISITOR_COOKIE);
  const store = storage();
  const fromStorage = store?.getItem(VISITOR_STORAGE_KEY) ?? null;
  const id = isVisitorId(fromCookie) ? fromCookie : isVisitorId(fromStorage) ? fromStorage : newVisitorId();
  if (id !== fromCookie) {
    // biome-ignore lint/suspicious/noDocumentCookie: the visitor cookie is first-party and needs no Cookie Store API
    document.cookie = visitorCookieString(id, { secure: window.location.protocol === "https:" });
  }
  if (id !== fromStorage) store?.setItem(VISITOR_STORAGE_KEY, id);
  return id;
}
