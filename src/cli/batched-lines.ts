/**
 * Lines written during one turn of the event loop leave in one write: a busy relay logs a
 * line per event, and a write per line (a system call each on a pipe) would cost more
 * than the event. Order is kept; flush() writes what is pending at once.
 *
 * `holdMs` holds lines up to that long instead (listen's request lines): under load a
 * turn carries only a few requests, and the write, the stream machinery behind it and
 * the timer per turn then cost several µs per request; held for a frame, hundreds leave
 * in one write, sooner than a person can tell the difference.
 */
export interface BatchedLines {
  line(text: string): void;
  flush(): void;
}

export interface BatchedLinesOptions {
  /** Hold lines up to this many ms (default: until the end of this event-loop turn). */
  holdMs?: number;
}

/** Pending lines past this go at once, whatever `holdMs` says: memory stays bounded. */
const MAX_PENDING_LINES = 1024;

export function batchedLines(write: (text: string) => void, options: BatchedLinesOptions = {}): BatchedLines {
  const holdMs = options.holdMs;
  let pending: string[] = [];
  let scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (scheduled !== undefined) {
      if (holdMs === undefined) clearImmediate(scheduled as NodeJS.Immediate);
      else clearTimeout(scheduled as NodeJS.Timeout);
    }
    scheduled = undefined;
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    write(text);
  };
  return {
    line(text) {
      pending.push(text);
      if (pending.length >= MAX_PENDING_LINES) return flush();
      scheduled ??= holdMs === undefined ? setImmediate(flush) : setTimeout(flush, holdMs);
    },
    flush,
  };
}
