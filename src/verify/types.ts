import type { CapturedHeaders } from '../capture/record.js';
import type { EventName } from '../events/types.js';

/** One request to verify, whatever file it came from. */
export interface VerifyRequest {
  /** Where it came from: `captures.jsonl:12`, `export.har#3`, `body.json`. */
  location: string;
  /** The capture id, when the source has one. */
  id?: string;
  /** Undefined when the source does not say (a lone --body). */
  method?: string;
  /** Every header as captured (lower-case names), for replay; absent for a lone --body. */
  headers?: CapturedHeaders;
  /** Path with query, as received. */
  path?: string;
  /** The `event` the capturing side read from the body, if it recorded one. */
  event?: string;
  /** Every X-Webhook-Signature value the request carried (usually one). */
  signatures: string[];
  /** The exact bytes: a string holds their UTF-8 text, a Buffer anything else. */
  body: string | Buffer;
  /** When it was received (date-time text), if the source records it; parsed only for --max-age. */
  receivedAt?: string;
  /** The capturing side refused it (e.g. over the body limit). */
  rejected?: string;
  /** The relay marked it a possible redelivery (`redelivery: true` in the capture). */
  redelivery?: boolean;
  /** What the app answered when the capturing side forwarded it (`listen --forward`). */
  forward?: AppAnswer;
  /** Why the source holds no body for it (a HAR saved without bodies): nothing to check. */
  bodyMissing?: string;
}

/** A recorded forward to the app, as far as the source says (a capture's `forward`). */
export interface AppAnswer {
  target?: unknown;
  status?: unknown;
  error?: unknown;
}

/** A record that could not be read as a request at all (a half-written line, say). */
export interface UnreadableRecord {
  location: string;
  id?: string;
  unreadable: string;
}

export type InputItem = VerifyRequest | UnreadableRecord;

export function isUnreadable(item: InputItem): item is UnreadableRecord {
  return (item as UnreadableRecord).unreadable !== undefined;
}

export type ReasonCode =
  | 'unreadable'
  | 'rejected'
  | 'body-missing'
  | 'app-unreachable'
  | 'app-status'
  | 'signature-missing'
  | 'signature-repeated'
  | 'signature-malformed'
  | 'signature-invalid'
  | 'body-replaced'
  | 'body-not-utf8'
  | 'body-not-json'
  | 'event-unknown'
  | 'schema'
  | 'too-old';

export interface Reason {
  code: ReasonCode;
  /** The JSON path of a schema violation. */
  path?: string;
  message: string;
}

/** Where the age of a request was read from. */
export type AgeSource = 'payload.timestamp' | 'payload.dns_checked_at' | 'receivedAt' | 'none';

export interface Verdict {
  location: string;
  id?: string;
  event?: string;
  /** payload.message.message_id, when the event has one. */
  messageId?: string;
  ok: boolean;
  reasons: Reason[];
  /** 0-based index of the --secret that signed it, when the signature is valid. */
  secretIndex?: number;
  ageMs?: number;
  ageSource?: AgeSource;
  /** The capture says the relay sent it before, on an earlier connection: a possible redelivery. */
  redelivery?: true;
  /** The same bytes were seen before, at `of`. */
  exactDuplicateOf?: string;
  /** Same event + message_id as `of`, but different bytes: a different event, not a redelivery. */
  samePairAs?: string;
  /** Information that does not fail the request (e.g. no timestamp to check the age with). */
  notes: string[];
}

export interface ExpectationResult {
  event: EventName;
  min: number;
  /** Distinct valid deliveries seen (exact duplicates count once). */
  seen: number;
  ok: boolean;
}

export interface VerifySummary {
  /** Requests and expectations that passed / failed. */
  passed: number;
  failed: number;
  requests: { passed: number; failed: number };
  /** Non-POST entries left out (browser HAR exports carry page loads). */
  skipped: number;
  /** With --max-age: requests aged by their receipt time (no payload timestamp), and not aged at all. */
  agedByReceipt: number;
  notAged: number;
  /** Left out by --event. */
  filteredOut: number;
  exactDuplicates: number;
  /**
   * Requests the relay marked as possible redeliveries: counted whether or not the first
   * delivery has a capture (a listener killed mid-forward writes none).
   */
  markedRedeliveries: number;
  /** Requests that repeat an earlier event + message_id with different bytes. */
  repeatedPairs: number;
  expectations: ExpectationResult[];
  /** How duplicates were keyed, said out loud in every report. */
  duplicateKeys: { exact: string; pair: string };
  secretCount: number;
  inputs: string[];
}
