import { answerHeartbeat, encodeMessage, type Heartbeat } from '../protocol/index.js';

interface Member {
  send(frame: string): void;
  onDead(): void;
  lastHeardMs: number;
}

/**
 * The relay's heartbeats for all its listeners on one timer, instead of one interval per
 * socket: 1,000 idle listeners cost one wake-up per interval, and none when no listener
 * is connected. A listener heard from within the interval (its own pings come every
 * interval) is not pinged: the pong it gets for its ping already tells it the relay is
 * there. One silent for `deadAfterMs` is dead (half-open TCP gives no close event).
 */
export class HeartbeatSweep {
  private readonly members = new Set<Member>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly deadAfterMs: number,
  ) {}

  /** Same contract as the protocol's startHeartbeat, on the shared timer. */
  join(send: (frame: string) => void, onDead: () => void): Heartbeat {
    const member: Member = { send, onDead, lastHeardMs: Date.now() };
    this.members.add(member);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return {
      heard: () => {
        member.lastHeardMs = Date.now();
      },
      answer: (message) => answerHeartbeat(message, send),
      stop: () => this.leave(member),
    };
  }

  /** How many links the sweep watches (for tests). */
  get size(): number {
    return this.members.size;
  }

  private leave(member: Member): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const member of [...this.members]) {
      const silentMs = now - member.lastHeardMs;
      if (silentMs > this.deadAfterMs) {
        this.leave(member);
        member.onDead();
      } else if (silentMs >= this.intervalMs) {
        member.send(encodeMessage({ type: 'ping', t: now }));
      }
    }
  }

  stop(): void {
    for (const member of [...this.members]) this.leave(member);
  }
}
