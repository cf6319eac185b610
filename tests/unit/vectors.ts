import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The shared reference vectors live beside the repository, in ../shared/vectors (never copied in). */
const vectorsDir = fileURLToPath(new URL("../../../shared/vectors/", import.meta.url));

export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(`${vectorsDir}${file}`, "utf8")) as T;
}
