import type { MailServer, MessageSummary } from './types.js';
import type { Sender } from './sample-data.js';

/** One transactional mail as the generator imagines it. */
export interface Mail {
  summary: MessageSummary;
  tag: string;
  linkPath: string;
  sender: Sender;
}

/**
 * What the events of one story share: one message (its id, token, message id,
 * recipient, sender, subject, when it was created, the MX that receives it) and one
 * mail server with its send limit. The generator draws these from the thread instead
 * of afresh, so a Sent, a Bounced and a LinkClicked are about the same message.
 */
export interface Thread {
  mail: Mail;
  messageId: string;
  /** Unix seconds the message was created (`message.timestamp`). */
  createdAt: number;
  spamStatus: string;
  mx: string;
  mxIp: string;
  server: MailServer;
  limit: number;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function take<K extends string>(target: Record<K, unknown>, key: K, from: Json, type: 'string' | 'number'): void {
  if (typeof from[key] === type) target[key] = from[key];
}

/**
 * Learns from a step's final body what the story's message and server now are: a step
 * that sets `payload.message.to` changes the recipient for every later step too, so a
 * story stays coherent whatever its steps set. Only well-typed values are taken.
 */
export function absorbIntoThread(thread: Thread, body: unknown): void {
  const payload = isObject(body) && isObject(body.payload) ? body.payload : undefined;
  if (!payload) return;
  const message = isObject(payload.message) ? payload.message : isObject(payload.original_message) ? payload.original_message : undefined;
  if (message) {
    const summary = thread.mail.summary as unknown as Record<keyof MessageSummary, unknown>;
    take(summary, 'id', message, 'number');
    take(summary, 'token', message, 'string');
    take(summary, 'to', message, 'string');
    take(summary, 'from', message, 'string');
    take(summary, 'subject', message, 'string');
    if (typeof message.message_id === 'string') thread.messageId = message.message_id;
    if (typeof message.timestamp === 'number') thread.createdAt = message.timestamp;
    if (typeof message.spam_status === 'string') thread.spamStatus = message.spam_status;
    if (typeof message.tag === 'string') thread.mail.tag = message.tag;
  }
  if (isObject(payload.server)) {
    const server = thread.server as unknown as Record<keyof MailServer, unknown>;
    for (const key of ['uuid', 'name', 'permalink', 'organization'] as const) take(server, key, payload.server, 'string');
  }
  if (typeof payload.limit === 'number') thread.limit = payload.limit;
}
