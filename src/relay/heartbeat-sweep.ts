import { answerHeartbeat, encodeMessage, type Heartbeat } from '../protocol/index.js';
import { SharedTicker } from './shared-ticker.js';

/**
 * The relay's heartbeats for all its listeners on one timer, instead of one interval per
 * socket: 1,000 idle listeners cost one wake-up per interval, and none when no listener
 * is connected. A listener heard from within the interval (its own pings come every
 * interval) is not pinged: the pong it gets for its ping already tells it the relay is
 * there. One silent for `deadAfterMs` is dead (half-open TCP gives no close event).
 */
export class HeartbeatSweep {
  private readonly ticker: SharedTicker;

  constructor(
    private readonly intervalMs: number,
    private readonly deadAfterMs: number,
  ) {
    this.ticker = new SharedTicker(intervalMs);
  }

  /** Same contract as the protocol's startHeartbeat, on the shared timer. */
  join(send: (frame: string) => void, onDead: () => void): Heartbeat {
    let lastHeardMs = Date.now();
    const stop = this.ticker.add(() => {
      const now = Date.now();
      if (now - lastHeardMs > this.deadAfterMs) {
        stop();
        onDead();
      } else if (now - lastHeardMs >= this.intervalMs) {
        send(encodeMessage({ type: 'ping', t: now }));
      }
    });
    return {
      heard: () => {
        lastHeardMs = Date.now();
      },
      answer: (message) => answerHeartbeat(message, send),
      stop,
    };
  }

  /** How many links the sweep watches (for tests). */
  get size(): number {
    return this.ticker.size;
  }

  stop(): void {
    this.ticker.stopAll();
  }
}
