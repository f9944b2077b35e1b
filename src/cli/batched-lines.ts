/**
 * Lines written during one turn of the event loop leave in one write: a busy relay logs a
 * line per event, and a write per line (a system call each on a pipe) would cost more
 * than the event. Order is kept; flush() writes what is pending at once.
 */
export interface BatchedLines {
  line(text: string): void;
  flush(): void;
}

export function batchedLines(write: (text: string) => void): BatchedLines {
  let pending: string[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = (): void => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = undefined;
    if (pending.length === 0) return;
    const text = `${pending.join('\n')}\n`;
    pending = [];
    write(text);
  };
  return {
    line(text) {
      pending.push(text);
      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}
