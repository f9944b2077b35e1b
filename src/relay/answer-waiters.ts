/**
 * Senders waiting for the app's answer to one stored event, by seq: the local delivery
 * and the cross-instance (Redis) path both park a sender here until the answer comes or
 * FrontEngine's budget runs out. One timer per waiters map, not one per event: it is
 * armed for the earliest deadline and, when it fires, expires whatever is due (the
 * waiters are at most a delivery window, so the scan is short).
 */

interface Deadline {
  atMs: number;
  expire: () => void;
}

interface Deadlines {
  bySeq: Map<number, Deadline>;
  timer: NodeJS.Timeout | undefined;
  armedForMs: number;
}

const deadlinesOf = new WeakMap<Map<number, unknown>, Deadlines>();

function arm(deadlines: Deadlines, atMs: number): void {
  if (deadlines.timer && deadlines.armedForMs <= atMs) return;
  clearTimeout(deadlines.timer);
  deadlines.armedForMs = atMs;
  deadlines.timer = setTimeout(() => expireDue(deadlines), Math.max(0, atMs - performance.now()));
}

function expireDue(deadlines: Deadlines): void {
  deadlines.timer = undefined;
  const nowMs = performance.now();
  let nextMs = Number.POSITIVE_INFINITY;
  for (const deadline of [...deadlines.bySeq.values()]) {
    if (deadline.atMs <= nowMs) deadline.expire();
    else nextMs = Math.min(nextMs, deadline.atMs);
  }
  if (nextMs !== Number.POSITIVE_INFINITY) arm(deadlines, nextMs);
}

export function waitForAnswer<A>(
  waiters: Map<number, (answer: A | undefined) => void>,
  seq: number,
  timeoutMs: number,
): Promise<A | undefined | 'timeout'> {
  let deadlines = deadlinesOf.get(waiters);
  if (!deadlines) deadlinesOf.set(waiters, (deadlines = { bySeq: new Map(), timer: undefined, armedForMs: 0 }));
  const own = deadlines;
  return new Promise((resolve) => {
    const atMs = performance.now() + timeoutMs;
    own.bySeq.set(seq, {
      atMs,
      expire: () => {
        own.bySeq.delete(seq);
        waiters.delete(seq);
        resolve('timeout');
      },
    });
    waiters.set(seq, (answer) => {
      own.bySeq.delete(seq);
      // Nobody left waiting: no timer may keep the process alive.
      if (own.bySeq.size === 0) {
        clearTimeout(own.timer);
        own.timer = undefined;
      }
      resolve(answer);
    });
    arm(own, atMs);
  });
}
