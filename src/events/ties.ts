import { domainOf } from './generate.js';
import type { EventName } from './types.js';

/**
 * Fields a sample derives from others: `details` names the recipient, a bounce comes
 * from the recipient's domain back to the original sender, a click carries its
 * message's token. When the user changes the source (`--set payload.message.to=…`),
 * the derived field follows, unless the user set it too.
 */
interface Tie {
  source: string;
  derived: string;
  /** The derived text with the source's old value replaced by its new one. */
  follow: (derived: string, before: string, after: string) => string;
}

const replaceAll = (derived: string, before: string, after: string): string =>
  before === '' ? derived : derived.replaceAll(before, after);
const replaceWhole = (derived: string, before: string, after: string): string => (derived === before ? after : derived);
const replaceDomain = (derived: string, before: string, after: string): string =>
  derived.endsWith(`@${domainOf(before)}`) ? `${derived.slice(0, derived.lastIndexOf('@'))}@${domainOf(after)}` : derived;

const STATUS_TIES: readonly Tie[] = [
  { source: 'payload.message.to', derived: 'payload.details', follow: replaceAll },
  { source: 'payload.message.to', derived: 'payload.output', follow: replaceAll },
];

const TIES: Partial<Record<EventName, readonly Tie[]>> = {
  MessageSent: STATUS_TIES,
  MessageDelayed: STATUS_TIES,
  MessageDeliveryFailed: STATUS_TIES,
  MessageHeld: STATUS_TIES,
  MessageBounced: [
    { source: 'payload.original_message.to', derived: 'payload.bounce.from', follow: replaceDomain },
    { source: 'payload.original_message.from', derived: 'payload.bounce.to', follow: replaceWhole },
  ],
  MessageLinkClicked: [{ source: 'payload.message.token', derived: 'payload.token', follow: replaceWhole }],
};

type Json = Record<string, unknown>;

function read(document: Json, path: string): unknown {
  let node: unknown = document;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

function write(document: Json, path: string, value: string): void {
  const keys = path.split('.');
  const parent = read(document, keys.slice(0, -1).join('.')) as Json;
  parent[keys.at(-1) as string] = value;
}

/** The source values of `event`'s ties in a sample, before the user's changes. */
export function tieSources(event: EventName, document: Json): Map<string, unknown> {
  return new Map((TIES[event] ?? []).map((tie) => [tie.source, read(document, tie.source)]));
}

/**
 * Makes derived fields follow their changed sources. `changedPaths` are the dotted paths
 * the user set (a derived field among them, or under one of them, is left as set).
 */
export function followTies(event: EventName, document: Json, before: Map<string, unknown>, changedPaths: readonly string[]): void {
  const userSet = (path: string): boolean => changedPaths.some((changed) => path === changed || path.startsWith(`${changed}.`));
  for (const tie of TIES[event] ?? []) {
    const old = before.get(tie.source);
    const now = read(document, tie.source);
    const derived = read(document, tie.derived);
    if (typeof old !== 'string' || typeof now !== 'string' || old === now || typeof derived !== 'string' || userSet(tie.derived)) continue;
    write(document, tie.derived, tie.follow(derived, old, now));
  }
}
