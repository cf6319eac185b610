import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time the processes under test used, from Linux's /proc. Throughput on a shared machine moves
 * with everything else running on it; CPU time per request barely does, so the benchmarks report
 * both. Elsewhere (no /proc) these return null and the columns say "n/a".
 */
const TICKS_PER_SECOND = 100;

/** `childSeconds`: CPU of its children that have exited and been waited for (cutime + cstime). */
type ProcessInfo = { pid: number; parent: number; cpuSeconds: number; childSeconds: number; command: string };

function readProcess(pid: number): ProcessInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may itself contain spaces or parentheses.
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
    return {
      pid,
      parent: Number(fields[1]),
      // utime and stime: fields 14 and 15 of stat, 12 and 13 after the command.
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      // cutime and cstime: fields 16 and 17.
      childSeconds: (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND,
      command,
    };
  } catch {
    return null;
  }
}

function allProcesses(): ProcessInfo[] | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  const processes: ProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const info = readProcess(Number(entry));
    if (info) processes.push(info);
  }
  return processes;
}

/** CPU seconds used so far by `rootPid` and every process below it (the app's whole tree). */
export function treeCpuSeconds(rootPid: number): number | null {
  const processes = allProcesses();
  if (!processes) return null;
  const inTree = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const info of processes) {
      if (!inTree.has(info.pid) && inTree.has(info.parent)) {
        inTree.add(info.pid);
        grew = true;
      }
    }
  }
  return processes.filter((info) => inTree.has(info.pid)).reduce((sum, info) => sum + info.cpuSeconds, 0);
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving `database` (their process titles
 * name it), plus what backends that have exited used: a pool closes idle connections, and an
 * exited backend's time moves to the postmaster's children's time when it reaps it (so that part
 * counts the backends of every database, idle ones during a benchmark).
 */
export function postgresCpuSeconds(database: string): number | null {
  const processes = allProcesses();
  if (!processes) return null;
  const live = processes
    .filter((info) => info.command.startsWith("postgres:") && info.command.includes(` ${database} `))
    .reduce((sum, info) => sum + info.cpuSeconds, 0);
  const checkpointer = processes.find((info) => /^postgres: .*checkpointer/.test(info.command));
  const postmaster = processes.find((info) => info.pid === checkpointer?.parent);
  return live + (postmaster?.childSeconds ?? 0);
}

/** Starts a reading; the returned function gives the CPU seconds used since. */
export function cpuMeter(read: () => number | null): () => number | null {
  const start = read();
  return () => {
    const end = read();
    return start === null || end === null ? null : end - start;
  };
}
