/**
 * What the inspector's server and its page exchange. No imports: the page (DOM, no Node
 * types) and the server (Node) both compile this file, so it is the one contract.
 * The server assigns CaptureRecord values to these types, which keeps them in step.
 */

export type WireHeaders = Record<string, string | string[]>;

export interface WireAnswer {
  headers: WireHeaders;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  bodySize: number;
}

export interface WireForward {
  target: string;
  status?: number;
  latencyMs: number;
  error?: string;
  answer?: WireAnswer;
}

/**
 * Where a relay channel's event stands (the relay's page only): queued (no listener has
 * acknowledged it), delivered, retrying (the app refused it and the listener holds it on
 * FrontEngine's retry schedule), failed (the schedule ran out).
 */
export type DeliveryState = 'queued' | 'delivered' | 'retrying' | 'failed';

/** The relay's page: a listed event's state as the listener's retry schedule reported it. */
export interface WireOutcome {
  seq: number;
  delivery: DeliveryState;
  /** The app's status on the latest attempt. */
  status?: number;
  attempt?: number;
  nextAttemptAt?: string;
}

/** One request as the page shows it. */
export interface WireRequest {
  id: string;
  receivedAt: string;
  method: string;
  path: string;
  headers: WireHeaders;
  /** A preview when `bodyTruncated`; the exact bytes come from the body endpoint. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  bodySize: number;
  bodyTruncated?: boolean;
  event?: string;
  signature: 'valid' | 'invalid' | 'unsigned' | 'unchecked';
  forward?: WireForward;
  responseStatus?: number;
  source?: { kind: 'local' } | { kind: 'relay'; channel: string; seq: number };
  rejected?: string;
  /** Set by the tunnel when the relay sent this event before (a redelivery). */
  redelivery?: boolean;
  /** Set when every delivery attempt failed. */
  failed?: boolean;
  /** A stored relay event on FrontEngine's retry schedule: which attempt this was, and when the next is due. */
  attempt?: number;
  nextAttemptAt?: string;
  /** The relay's page: the channel log's sequence number and delivery state. */
  seq?: number;
  delivery?: DeliveryState;
  /** The relay's page: the app's status on the latest attempt the listener reported. */
  appStatus?: number;
}

/** GET <api>/requests. */
export interface WireList {
  mode: 'listen' | 'relay';
  webhookUrl: string;
  target: string | null;
  /** The known event names, for the filter and the test-event picker. */
  events: string[];
  /** Edit-and-replay and test events need listen's secret. */
  canSign: boolean;
  requests: WireRequest[];
  /** The relay: the listener's acknowledged cursor; every seq up to it was delivered, unless an outcome says otherwise. */
  acked?: number;
  /** The relay: the retry outcomes of the listed window's events (the page updates the rows it has). */
  outcomes?: WireOutcome[];
}

export interface WireViolation {
  path: string;
  message: string;
}

/** GET <api>/requests/<id>/check: the schema verdict, as `verify` checks it. */
export interface WireCheck {
  /** Whether the body is JSON at all. */
  json: boolean;
  event?: string;
  violations: WireViolation[];
}

/** Messages on the live feed. */
export type WireMessage = { type: 'request'; request: WireRequest } | { type: 'cleared' };

/** The answer to a replay or a test event. */
export interface WireSendResult {
  status?: number;
  latencyMs?: number;
  error?: string;
}

/** The relay's per-channel custom answer while no listener is connected. */
export interface WireCustomAnswer {
  status: number;
  body: string;
  contentType: string;
  delayMs: number;
}

/**
 * Puts a retry outcome on a listed request: the server when it lists, the page when a
 * later poll brings a newer one. Attempts after the first reached the app again, as
 * FrontEngine's own retries do: the request is marked a redelivery.
 */
export function applyOutcome(request: WireRequest, outcome: WireOutcome): void {
  request.delivery = outcome.delivery;
  if (outcome.attempt !== undefined) request.attempt = outcome.attempt;
  if (outcome.status !== undefined) request.appStatus = outcome.status;
  if (outcome.delivery === 'retrying' && outcome.nextAttemptAt !== undefined) request.nextAttemptAt = outcome.nextAttemptAt;
  else delete request.nextAttemptAt;
  if ((outcome.attempt ?? 1) > 1) request.redelivery = true;
}
