import { getEnv } from "./env";

type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

function write(level: Level, message: string, fields?: Record<string, unknown>) {
  let threshold: keyof typeof ORDER = "info";
  try {
    threshold = getEnv().LOG_LEVEL;
  } catch {
    // A broken environment is reported by whoever parses it; logging must still work meanwhile.
  }
  if (ORDER[level] < ORDER[threshold]) return;
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields });
  (level === "error" || level === "warn" ? console.error : console.log)(line);
}

/** Structured one-line JSON logs (stdout, or stderr for warnings and errors). */
export const logger = {
  debug: (message: string, fields?: Record<string, unknown>) => write("debug", message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write("info", message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write("warn", message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write("error", message, fields),
};
