import { encodeMessage, type ListenerMessage, type PingMessage, type RelayMessage } from './messages.js';

export interface HeartbeatOptions {
  /** Sends a frame to the other end (a no-op while the link is not open). */
  send(frame: string): void;
  /** Nothing heard for `deadAfterMs`: the link is dead (the caller terminates it). */
  onDead(): void;
  intervalMs: number;
  deadAfterMs: number;
}

/** One end's heartbeat on a relay ↔ listener link; both ends run the same one. */
export interface Heartbeat {
  /** Any frame arrived: the link is alive. */
  heard(): void;
  /** Answers a ping with a pong; true for a ping or pong, which need nothing else. */
  answer(message: ListenerMessage | RelayMessage): message is PingMessage;
  stop(): void;
}

/**
 * Pings every `intervalMs` and declares the link dead once it has been silent for
 * `deadAfterMs`: a half-open TCP link (laptop asleep, NAT dropped) gives no close event,
 * so silence is the only sign.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  let lastHeardMs = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - lastHeardMs > options.deadAfterMs) {
      clearInterval(timer);
      options.onDead();
      return;
    }
    options.send(encodeMessage({ type: 'ping', t: Date.now() }));
  }, options.intervalMs);
  timer.unref();
  return {
    heard() {
      lastHeardMs = Date.now();
    },
    answer(message): message is PingMessage {
      return answerHeartbeat(message, options.send);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Answers a ping with a pong; true for a ping or pong, which need nothing else. */
export function answerHeartbeat(message: ListenerMessage | RelayMessage, send: (frame: string) => void): message is PingMessage {
  if (message.type !== 'ping' && message.type !== 'pong') return false;
  if (message.type === 'ping') send(encodeMessage({ type: 'pong', t: message.t }));
  return true;
}
