import { ACKS_PER_FRAME, MAX_ACK_BODY_BYTES, PROTOCOL_VERSION, encodeAck, encodeAcksFrame, type AckMessage } from '../protocol/index.js';
import type { ForwardedTracker } from './forwarded.js';
import type { TunnelAnswer } from './types.js';

/** One subscribed link to the relay, as the ack sender writes to it. */
export interface AckLink {
  send(frame: string | Buffer): void;
  /** The relay reads binary acks (it said so when subscribing). */
  binaryAcks: boolean;
}

type Ack = Omit<AckMessage, 'v' | 'type'>;

/** Acks going out together stay well under the relay's 1 MiB frame limit. */
const ACKS_FRAME_MAX_CHARS = 256 * 1024;

/**
 * The listener's sending half for acks. Acks wait until the promise jobs running now are
 * done (process.nextTick runs after them), then go out in one frame: deliveries finish in
 * bunches (one capture fsync answers many), so do their acks, without waiting for the next
 * turn of the loop. Binary (acks-frame.ts) when the relay reads them, else JSON texts.
 */
export class AckSender {
  /** The link acks go to: undefined between a close and the next subscription (acks are then dropped). */
  link: AckLink | undefined;
  private texts: string[] = [];
  private frames: Buffer[] = [];
  private count = 0;
  private chars = 0;
  private scheduled = false;
  /** Made once: process.nextTick is handed the same function for every batch. */
  private readonly flushScheduled = (): void => this.flush();

  constructor(private readonly tracker: ForwardedTracker) {}

  /** Queues the ack of `seq` for the batch going out once the current promise jobs are done. */
  ack(seq: number, answer: TunnelAnswer, final: boolean, repeat = false): void {
    const link = this.link;
    if (!link) return;
    const body = answer.body.subarray(0, MAX_ACK_BODY_BYTES);
    const headers = answer.headers.filter(([name]) => /^content-type$/i.test(name));
    let size: number;
    if (link.binaryAcks) {
      const bytes = encodeAck(seq, answer.status, final, repeat, headers, body);
      size = bytes.length;
      if (this.chars + size > ACKS_FRAME_MAX_CHARS || this.count === ACKS_PER_FRAME) this.flush();
      this.frames.push(bytes);
    } else {
      const one: Ack = {
        seq,
        status: answer.status,
        final,
        headers,
        ...(body.length > 0 ? { body: body.toString('base64') } : {}),
        ...(repeat ? { repeat: true } : {}),
      };
      const text = JSON.stringify(one);
      size = text.length + 1;
      if (this.chars + size > ACKS_FRAME_MAX_CHARS) this.flush();
      this.texts.push(text);
    }
    this.count++;
    this.chars += size;
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flushScheduled);
    }
  }

  /** Sends the acks queued so far in one frame. */
  flush(): void {
    this.scheduled = false;
    if (this.count === 0) return;
    // The cursor reaches the file before any ack it covers leaves.
    this.tracker.commit();
    if (this.link?.binaryAcks) this.link.send(encodeAcksFrame(this.count, this.frames));
    else this.link?.send(`{"v":${PROTOCOL_VERSION},"type":"acks","acks":[${this.texts.join(',')}]}`);
    this.clear();
  }

  /** `link` closed: acks not yet sent are lost with it, and the relay sends those events again. */
  linkClosed(): void {
    this.clear();
    this.link = undefined;
  }

  private clear(): void {
    this.texts = [];
    this.frames = [];
    this.count = 0;
    this.chars = 0;
  }
}
