/**
 * Measures the longest time the event loop went without running a timer, from now until
 * stop: a chain of 1 ms timers, each noting how late it ran. (perf_hooks'
 * monitorEventLoopDelay records nothing when the work ends before its first sample.)
 */
export function watchEventLoopStalls(): { stop(): number } {
  let longest = 0;
  let last = performance.now();
  let timer: NodeJS.Timeout;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop() {
      clearTimeout(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}
