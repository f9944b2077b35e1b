import type { EventName, MailServer, PayloadByEvent, WebhookEvent, WebhookEventOf, DeliveredMessage } from './types.js';
import { Random } from './random.js';
import * as data from './sample-data.js';
import type { Mail, Thread } from './thread.js';

export interface GenerateOptions {
  /** Makes the sample repeatable byte for byte (ids, tokens, and the clock). */
  seed?: number;
  /** The clock for timestamps; defaults to now, or to a fixed instant when seeded. */
  now?: Date;
  /** The story this event belongs to: its message and server are the thread's (see newThread). */
  thread?: Thread;
  /** A MessageDelayed's "Will retry in N minutes", when the story knows when the next attempt comes. */
  retryInMinutes?: number;
}

/**
 * The instant seeded samples are dated from, so that `--seed` repeats byte for byte
 * (2026-03-30T14:00:00Z, the date of the page's DomainDNSError example).
 */
export const SEEDED_CLOCK = new Date('2026-03-30T14:00:00Z');

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

interface Context {
  rng: Random;
  /** Unix seconds. */
  now: number;
  thread?: Thread;
  retryInMinutes?: number;
}

type Builder<E extends EventName> = (ctx: Context) => PayloadByEvent[E];

function token(rng: Random): string {
  // Postal's message tokens are 12 random lower-case alphanumerics.
  return rng.string(12, TOKEN_ALPHABET);
}

function recipient(rng: Random): string {
  const first = rng.pick(data.FIRST_NAMES);
  const last = rng.pick(data.LAST_NAMES);
  const local = rng.pick([`${first}.${last}`, `${first}${rng.int(1, 99)}`, `${first[0]}${last}`]);
  return `${local}@${rng.pick(data.RECIPIENT_DOMAINS)}`;
}

function mail(rng: Random): Mail {
  const kind = rng.pick(data.MAIL_KINDS);
  const number = String(rng.int(10000, 99999));
  const sender = rng.pick(data.SENDERS);
  return {
    summary: {
      id: rng.int(100000, 99999999),
      token: token(rng),
      to: recipient(rng),
      from: sender.address,
      subject: kind.subject.replaceAll('{n}', number),
    },
    tag: kind.tag,
    linkPath: kind.link.replaceAll('{n}', number),
    sender,
  };
}

/** An RFC 5322 msg-id as Postal writes it: `<uuid@host>`. */
function messageId(rng: Random, domain: string): string {
  return `<${rng.uuid()}@mail.${domain}>`;
}

function spamStatus(rng: Random): string {
  return rng.pick(['NotSpam', 'NotSpam', 'NotSpam', 'NotChecked']);
}

function deliveredMessage(ctx: Context, sentBefore: number): { message: DeliveredMessage; mx: string } {
  const { rng, thread } = ctx;
  const m = thread?.mail ?? mail(rng);
  return {
    // The page's field order.
    message: {
      id: m.summary.id,
      token: m.summary.token,
      direction: 'outgoing',
      message_id: thread?.messageId ?? messageId(rng, m.sender.domain),
      to: m.summary.to,
      from: m.summary.from,
      subject: m.summary.subject,
      timestamp: thread?.createdAt ?? ctx.now - sentBefore,
      spam_status: thread?.spamStatus ?? spamStatus(rng),
      tag: m.tag,
    },
    mx: thread?.mx ?? rng.pick(data.MX_HOSTS),
  };
}

/** The MX's address: the thread's, else drawn where the builders always drew it (seeded samples stay as they were). */
function mxAddress(ctx: Context): string {
  return ctx.thread?.mxIp ?? ip(ctx.rng);
}

function ip(rng: Random): string {
  return rng.pick(data.IP_PREFIXES) + rng.int(1, 254);
}

/** The part of an address after its last `@` (the whole text when it has none). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

function seconds(rng: Random, min: number, max: number): number {
  return Math.round((min + rng.next() * (max - min)) * 100) / 100;
}

const sent: Builder<'MessageSent'> = (ctx) => {
  const { rng } = ctx;
  const { message, mx } = deliveredMessage(ctx, rng.int(2, 30));
  const queueId = `${rng.hex(10).toUpperCase()}`;
  return {
    status: 'sent',
    details: `Message for ${message.to} accepted by ${mx} (${mxAddress(ctx)})`,
    output: `250 2.0.0 OK: queued as ${queueId}`,
    time: seconds(rng, 0.2, 3.5),
    sent_with_ssl: rng.chance(0.9),
    timestamp: ctx.now,
    message,
  };
};

const delayed: Builder<'MessageDelayed'> = (ctx) => {
  const { rng } = ctx;
  const { message, mx } = deliveredMessage(ctx, rng.int(60, 900));
  const mxIp = mxAddress(ctx);
  const retryIn = ctx.retryInMinutes ?? rng.pick([2, 5, 10, 30]);
  return {
    status: 'softfail',
    details: `Temporary failure delivering to ${mx} (${mxIp}). Will retry in ${retryIn} minute${retryIn === 1 ? '' : 's'}.`,
    output: rng.pick(data.SOFT_FAIL_REPLIES),
    time: seconds(rng, 0.3, 5),
    sent_with_ssl: rng.chance(0.9),
    timestamp: ctx.now,
    message,
  };
};

const deliveryFailed: Builder<'MessageDeliveryFailed'> = (ctx) => {
  const { rng } = ctx;
  const { message, mx } = deliveredMessage(ctx, rng.int(2, 60));
  return {
    status: 'hardfail',
    details: `Permanent failure delivering to ${mx} (${mxAddress(ctx)}). The message will not be retried.`,
    output: rng.pick(data.HARD_FAIL_REPLIES).replace('%s', message.to),
    time: seconds(rng, 0.2, 3),
    sent_with_ssl: rng.chance(0.9),
    timestamp: ctx.now,
    message,
  };
};

const held: Builder<'MessageHeld'> = (ctx) => {
  const { rng } = ctx;
  const { message } = deliveredMessage(ctx, rng.int(1, 10));
  // Nothing was attempted, so there is no SMTP reply, duration or TLS flag.
  return { status: 'held', details: rng.pick(data.HOLD_REASONS), output: '', time: null, sent_with_ssl: null, timestamp: ctx.now, message };
};

const bounced: Builder<'MessageBounced'> = (ctx) => {
  const { rng } = ctx;
  const original = { ...(ctx.thread?.mail ?? mail(rng)).summary };
  return {
    original_message: original,
    bounce: {
      id: original.id + rng.int(1, 5000),
      token: token(rng),
      // The bounce comes back to the original sender from the recipient's mail system.
      to: original.from,
      from: `${rng.pick(data.BOUNCE_SENDER_NAMES)}@${domainOf(original.to)}`,
      subject: rng.pick(data.BOUNCE_SUBJECTS),
    },
  };
};

const linkClicked: Builder<'MessageLinkClicked'> = (ctx) => {
  const { rng } = ctx;
  const m = ctx.thread?.mail ?? mail(rng);
  return {
    url: `https://${m.sender.domain}${m.linkPath}`,
    token: m.summary.token,
    ip_address: ip(rng),
    user_agent: rng.pick(data.USER_AGENTS),
    message: { ...m.summary, tag: m.tag },
  };
};

function server(rng: Random, sender: data.Sender = rng.pick(data.SENDERS)): MailServer {
  const name = `${sender.organization} ${rng.pick(data.SERVER_NAMES)}`;
  return {
    uuid: rng.uuid(),
    name,
    permalink: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    organization: sender.organization,
  };
}

const limitApproaching: Builder<'SendLimitApproaching'> = (ctx) => {
  const { rng } = ctx;
  const limit = ctx.thread?.limit ?? rng.pick(data.SEND_LIMITS);
  // At or above 90 % of the limit and still under it.
  return { server: ctx.thread ? { ...ctx.thread.server } : server(rng), volume: rng.int(Math.ceil(limit * 0.9), limit - 1), limit };
};

const limitExceeded: Builder<'SendLimitExceeded'> = (ctx) => {
  const { rng } = ctx;
  const limit = ctx.thread?.limit ?? rng.pick(data.SEND_LIMITS);
  return { server: ctx.thread ? { ...ctx.thread.server } : server(rng), volume: rng.int(limit + 1, Math.ceil(limit * 1.1)), limit };
};

const dnsError: Builder<'DomainDNSError'> = (ctx) => {
  const { rng } = ctx;
  // In a story, the failing domain is the one its message is sent from.
  const domain = ctx.thread?.mail.sender.domain ?? rng.pick(data.SENDERS).domain;
  const failure = rng.pick(data.DNS_FAILURES);
  const selector = `fe-${rng.string(6, TOKEN_ALPHABET)}`;
  const checks = { spf: 'OK', dkim: 'OK', mx: 'OK', return_path: 'OK' } as Record<typeof failure.check, string>;
  checks[failure.check] = failure.status;
  const error = (check: typeof failure.check): string | null =>
    check === failure.check ? failure.error.replaceAll('%d', domain).replaceAll('%s', selector) : null;
  const s = ctx.thread?.server ?? server(rng);
  return {
    domain,
    uuid: rng.uuid(),
    dns_checked_at: new Date(ctx.now * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    spf_status: checks.spf,
    spf_error: error('spf'),
    dkim_status: checks.dkim,
    dkim_error: error('dkim'),
    mx_status: checks.mx,
    mx_error: error('mx'),
    return_path_status: checks.return_path,
    return_path_error: error('return_path'),
    server: { uuid: s.uuid, name: s.name },
  };
};

const BUILDERS: { [E in EventName]: Builder<E> } = {
  MessageSent: sent,
  MessageDelayed: delayed,
  MessageDeliveryFailed: deliveryFailed,
  MessageHeld: held,
  MessageBounced: bounced,
  MessageLinkClicked: linkClicked,
  SendLimitApproaching: limitApproaching,
  SendLimitExceeded: limitExceeded,
  DomainDNSError: dnsError,
};

/** A realistic sample body for one event; fresh each call unless seeded. */
export function generate<E extends EventName>(event: E, options: GenerateOptions = {}): WebhookEventOf<E> {
  const rng = new Random(options.seed);
  const clock = options.now ?? (options.seed !== undefined ? SEEDED_CLOCK : new Date());
  const ctx: Context = { rng, now: Math.floor(clock.getTime() / 1000), thread: options.thread, retryInMinutes: options.retryInMinutes };
  const payload = (BUILDERS[event] as Builder<E>)(ctx);
  return { event, payload } as WebhookEvent as WebhookEventOf<E>;
}

/**
 * A fresh story thread: one message (created `createdBefore` seconds before `now`) and
 * the mail server it goes through. Seeded like samples are, from `rng`.
 */
export function newThread(rng: Random, now: number, createdBefore = rng.int(2, 30)): Thread {
  const m = mail(rng);
  return {
    mail: m,
    messageId: messageId(rng, m.sender.domain),
    createdAt: now - createdBefore,
    spamStatus: spamStatus(rng),
    mx: rng.pick(data.MX_HOSTS),
    mxIp: ip(rng),
    server: server(rng, m.sender),
    limit: rng.pick(data.SEND_LIMITS),
  };
}
