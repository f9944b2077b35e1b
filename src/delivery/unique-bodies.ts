import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { composeBody, type ComposeOptions } from '../events/compose.js';
import type { EventName } from '../events/types.js';

/**
 * Load mode needs a fresh event per request, but composing one from scratch costs about
 * 20 µs (mostly seeding its random source), as much as the HTTP request itself. So a few
 * samples are composed once, their identity fields (`id`, `token`, `message_id`) and
 * clock fields (`timestamp`) are cut out, and each request splices fresh values in:
 * about 1 µs, and the bytes are still exactly what composeBody would print. Timestamps
 * move with the clock (a soak test's events stay fresh for a receiver's age check),
 * keeping their distance from the template's "now". Events with no identity fields
 * (server events) are composed whole every time.
 */

/** Sample bodies per event to rotate through, so recipients and subjects vary too. */
export const TEMPLATES_PER_EVENT = 8;

const IDENTITY_KEYS = new Set(['id', 'token', 'message_id']);
/** Unix-seconds fields that the generator dates from "now". */
const CLOCK_KEYS = new Set(['timestamp']);
const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const MARK = '\u0000fe-webhooks-slot-';

type Slot = (serial: number) => string;

interface Template {
  /** Literal JSON text between the slots; one more than `slots`. */
  parts: string[];
  slots: Slot[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Numeric slots per body that get distinct ids: serial × stride + slot keeps every id in a run distinct. */
const NUMERIC_STRIDE = 16;

const clockSeconds = (): number => Math.floor(Date.now() / 1000);

/** `original` (Unix seconds in a template dated `templateSeconds`), moved by the time since. */
function clockSlot(original: number, templateSeconds: number): Slot {
  return () => String(original + (clockSeconds() - templateSeconds));
}

/** A fresh value of the same kind as `original`, unique per serial number within this run. */
function slotFor(original: number | string, index: number, numericBase: number): Slot {
  if (typeof original === 'number') {
    const offset = numericBase + (index % NUMERIC_STRIDE);
    return (serial) => String(offset + serial * NUMERIC_STRIDE);
  }
  const messageId = /^<[^@>]+@([^>]+)>$/.exec(original);
  if (messageId) {
    const host = messageId[1] as string;
    return () => JSON.stringify(`<${randomUUID()}@${host}>`);
  }
  // Tokens: same length and alphabet as the original, a random prefix and the serial in base 36.
  const length = Math.max(original.length, 8);
  const prefix = Array.from(randomBytes(length), (byte) => TOKEN_ALPHABET[byte % TOKEN_ALPHABET.length]).join('');
  return (serial) => JSON.stringify((prefix + serial.toString(36)).slice(-length));
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value cut out of a template: an identity or a clock reading. */
interface Original {
  kind: 'identity' | 'clock';
  value: number | string;
}

/**
 * Replaces identity and clock values by markers in place; equal originals of a kind
 * share one slot (a click's token is its message's token).
 */
function markSlots(
  node: Json,
  pinned: ReadonlySet<string>,
  clocks: boolean,
  slots: Map<string, { index: number; original: Original }>,
  path: string,
): void {
  if (Array.isArray(node)) {
    node.forEach((child, index) => markSlots(child, pinned, clocks, slots, `${path}.${index}`));
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    const here = path === '' ? key : `${path}.${key}`;
    const kind =
      IDENTITY_KEYS.has(key) && (typeof value === 'number' || typeof value === 'string')
        ? 'identity'
        : clocks && CLOCK_KEYS.has(key) && typeof value === 'number'
          ? 'clock'
          : undefined;
    if (kind !== undefined && !pinned.has(here)) {
      const id = `${kind}:${typeof value}:${String(value)}`;
      let slot = slots.get(id);
      if (slot === undefined) slots.set(id, (slot = { index: slots.size, original: { kind, value: value as number | string } }));
      node[key] = `${MARK}${slot.index}`;
    } else {
      markSlots(value, pinned, clocks, slots, here);
    }
  }
}

/** Every dotted path the user's --data or --set fixed: those values are theirs and stay. */
function pinnedPaths(options: ComposeOptions): Set<string> {
  const pinned = new Set<string>((options.overrides ?? []).map((o) => o.path.join('.')));
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const here = path === '' ? key : `${path}.${key}`;
      pinned.add(here);
      walk(value, here);
    }
  };
  walk(options.partial, '');
  return pinned;
}

function template(event: EventName, options: ComposeOptions, pinned: ReadonlySet<string>, numericBase: number): Template | undefined {
  // A clock the caller chose (or a seed's fixed one) stays as it is; otherwise timestamps follow the real clock.
  const fixedClock = options.now !== undefined || options.seed !== undefined;
  const templateSeconds = clockSeconds();
  const now = fixedClock ? options.now : new Date(templateSeconds * 1000);
  const body = composeBody(event, { ...options, ...(now ? { now } : {}), compact: true }).body;
  const document = JSON.parse(body) as Json;
  const marked = new Map<string, { index: number; original: Original }>();
  markSlots(document, pinned, !fixedClock, marked, '');
  const originals = [...marked.values()].map((slot) => slot.original);
  if (!originals.some((original) => original.kind === 'identity')) return undefined;
  let identities = 0;
  const slots = originals.map((original) =>
    original.kind === 'clock' ? clockSlot(original.value as number, templateSeconds) : slotFor(original.value, identities++, numericBase),
  );
  // JSON.stringify writes a marker as "\u0000fe-webhooks-slot-N" (quotes and escape included).
  const pieces = JSON.stringify(document).split(new RegExp(`"\\\\u0000fe-webhooks-slot-(\\d+)"`));
  const parts: string[] = [];
  const order: Slot[] = [];
  pieces.forEach((piece, i) => (i % 2 === 0 ? parts.push(piece) : order.push(slots[Number(piece)] as Slot)));
  return { parts, slots: order };
}

/**
 * A source of unique compact bodies for `event`: call it with 0, 1, 2, … The user's
 * --data/--set apply to every body; identity fields they set are left alone.
 */
export function uniqueBodies(event: EventName, options: ComposeOptions = {}): (serial: number) => string {
  const pinned = pinnedPaths(options);
  const templates: Template[] = [];
  // Postal-sized ids (the page shows 12345); one base per run so templates never collide.
  const numericBase = randomInt(1_000_000, 50_000_000);
  for (let i = 0; i < TEMPLATES_PER_EVENT; i++) {
    const made = template(event, options, pinned, numericBase);
    if (!made) return () => composeBody(event, { ...options, compact: true }).body;
    templates.push(made);
  }
  return (serial) => {
    const { parts, slots } = templates[serial % templates.length] as Template;
    let body = parts[0] as string;
    for (let i = 0; i < slots.length; i++) body += (slots[i] as Slot)(serial) + (parts[i + 1] as string);
    return body;
  };
}
