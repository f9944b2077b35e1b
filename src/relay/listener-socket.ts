import type { WebSocket } from 'ws';
import {
  CLOSE_CODES,
  decodeListenerMessage,
  encodeMessage,
  isInvalid,
  noted,
  type ErrorCode,
  type SubscribeMessage,
} from '../protocol/index.js';
import { tokenMatches } from './credentials.js';
import type { ChannelDelivery, ListenerLink } from './delivery.js';
import type { HeartbeatSweep } from './heartbeat-sweep.js';
import { skipped } from '../util/debug.js';

/** A listener must say who it is this soon after connecting. */
export const SUBSCRIBE_TIMEOUT_MS = 5_000;

export interface ListenerSocketContext {
  /** Finds a channel's delivery and token hash; undefined for an unknown channel. */
  channel(id: string): Promise<{ delivery: ChannelDelivery; tokenHash: string } | undefined>;
  /** The relay's one heartbeat timer for all listeners. */
  heartbeats: HeartbeatSweep;
  /** The listener's address (`host:port`), told to the listener it replaces. */
  address?: string;
  onSubscribed(channel: string, after: number): void;
  onClosed(channel: string | undefined, reason: string): void;
  onRefused(reason: string): void;
}

/**
 * One listener's WebSocket on the relay: subscribe (token checked in constant time),
 * then acks and heartbeats. Every frame is validated; a bad one closes this socket and
 * nothing else.
 */
export function serveListenerSocket(ws: WebSocket, context: ListenerSocketContext): void {
  let delivery: ChannelDelivery | undefined;
  let channelId: string | undefined;
  const link: ListenerLink = {
    send: (frame) => {
      if (ws.readyState === ws.OPEN) ws.send(frame);
    },
    close: (code, reason) => ws.close(code, reason),
  };
  const refuse = (code: ErrorCode, message: string, closeCode: number): void => {
    link.send(encodeMessage({ type: 'error', code, message }));
    ws.close(closeCode, code);
  };
  const subscribeTimer = setTimeout(
    () => refuse('subscribe-timeout', `no subscribe within ${SUBSCRIBE_TIMEOUT_MS} ms`, CLOSE_CODES.protocol),
    SUBSCRIBE_TIMEOUT_MS,
  );
  const heartbeat = context.heartbeats.join(link.send, () => ws.terminate());
  subscribeTimer.unref();

  const subscribe = async (message: SubscribeMessage): Promise<void> => {
    const found = await context.channel(message.channel);
    // Unknown channel and wrong token get the same answer: nothing says which ids exist.
    if (!found || !tokenMatches(message.token, found.tokenHash)) {
      context.onRefused('wrong token or unknown channel');
      refuse('unauthorized', 'the relay refused this channel id and token', CLOSE_CODES.unauthorized);
      return;
    }
    if (ws.readyState !== ws.OPEN) return;
    delivery = found.delivery;
    channelId = message.channel;
    const wish = {
      ...(message.after !== undefined ? { after: message.after } : {}),
      ...(message.log !== undefined ? { log: message.log } : {}),
      ...(message.at !== undefined ? { at: message.at } : {}),
    };
    const newcomer = { at: new Date(), ...(context.address ? { by: context.address } : {}) };
    await found.delivery.attach(link, wish, newcomer, (after, head) => {
      const log = found.delivery.log.id;
      link.send(encodeMessage({ type: 'subscribed', channel: message.channel, after, head, log, binaryAcks: true, outcomes: true }));
      context.onSubscribed(message.channel, after);
    });
  };

  let subscribing = false;
  ws.on('message', (data, isBinary) => {
    heartbeat.heard();
    const message = decodeListenerMessage(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary);
    if (isInvalid(message)) {
      refuse(message.code, message.invalid, message.code === 'unauthorized' ? CLOSE_CODES.unauthorized : CLOSE_CODES.protocol);
      return;
    }
    if (heartbeat.answer(message)) return;
    switch (message.type) {
      case 'subscribe':
        if (subscribing) return refuse('bad-message', 'subscribe sent twice', CLOSE_CODES.protocol);
        subscribing = true;
        clearTimeout(subscribeTimer);
        void subscribe(message).catch(() => refuse('unavailable', 'the relay could not open this channel', CLOSE_CODES.goingAway));
        return;
      case 'ack':
        delivery?.acknowledged(link, [message]);
        return;
      case 'acks':
        delivery?.acknowledged(link, message.acks);
        return;
      case 'released':
        delivery?.released(link, message.begun);
        return;
      case 'outcomes': {
        // Stored before it is confirmed: the listener repeats what was not (on its next subscription).
        const confirmed = encodeMessage({ type: 'outcomes-noted', outcomes: message.outcomes.map(noted) });
        const failed = skipped('storing retry outcomes (the listener repeats them)');
        void delivery?.log.noteOutcomes(message.outcomes).then(() => link.send(confirmed), failed);
        return;
      }
    }
  });
  ws.on('close', (code) => {
    clearTimeout(subscribeTimer);
    heartbeat.stop();
    delivery?.detach(link);
    context.onClosed(channelId, `closed (${code})`);
  });
  ws.on('error', () => ws.terminate());
}
