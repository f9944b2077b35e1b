import { readFileSync, readdirSync } from 'node:fs';

/** Open file descriptors of a process right now (Linux: /proc/<pid>/fd); 0 once it is gone. */
export function openDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Samples a process's descriptor count every few milliseconds until stopped; `stop` gives the peak. */
export function watchDescriptors(pid: number, everyMs = 25): { stop(): number } {
  let peak = openDescriptors(pid);
  const timer = setInterval(() => (peak = Math.max(peak, openDescriptors(pid))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, openDescriptors(pid));
    },
  };
}

/** /proc/<pid>/stat counts CPU time in clock ticks of 10 ms (USER_HZ = 100 on Linux). */
const CLOCK_TICK_MS = 10;

/** CPU time a process has used so far (user + system), in ms. */
export function cpuTimeMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}
