import type { JsonSchema } from './schema.js';
import type { EventName } from './types.js';

export type EventCategory = 'message' | 'server';

export interface EventDefinition {
  name: EventName;
  category: EventCategory;
  /** The trigger, in the provider page's words. */
  description: string;
  /** JSON Schema of the whole body (`{"event": ..., "payload": ...}`). */
  schema: JsonSchema;
}

const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

const string: JsonSchema = { type: 'string' };
const nullableString: JsonSchema = { type: ['string', 'null'] };
const integer: JsonSchema = { type: 'integer' };
const number: JsonSchema = { type: 'number' };

function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  // Every documented field is required; unknown extra fields are allowed, because real
  // FrontEngine traffic may carry fields the page does not show and must never fail for them.
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) };
}

const messageSummary = {
  id: integer,
  token: string,
  to: string,
  from: string,
  subject: string,
};

const deliveryStatusPayload = object({
  status: string,
  details: string,
  output: string,
  // Postal leaves both null when no delivery was attempted (a held message).
  time: { type: ['number', 'null'] },
  sent_with_ssl: { type: ['boolean', 'null'] },
  timestamp: number,
  message: object({
    ...messageSummary,
    direction: string,
    message_id: string,
    timestamp: number,
    spam_status: string,
    tag: nullableString,
  }),
});

const sendLimitPayload = object({
  server: object({ uuid: string, name: string, permalink: string, organization: string }),
  volume: integer,
  limit: integer,
});

const PAYLOAD_SCHEMAS: Record<EventName, JsonSchema> = {
  MessageSent: deliveryStatusPayload,
  MessageDelayed: deliveryStatusPayload,
  MessageDeliveryFailed: deliveryStatusPayload,
  MessageHeld: deliveryStatusPayload,
  MessageBounced: object({ original_message: object(messageSummary), bounce: object(messageSummary) }),
  MessageLinkClicked: object({
    url: string,
    token: string,
    ip_address: string,
    user_agent: string,
    message: object({ ...messageSummary, tag: nullableString }),
  }),
  SendLimitApproaching: sendLimitPayload,
  SendLimitExceeded: sendLimitPayload,
  DomainDNSError: object({
    domain: string,
    uuid: string,
    dns_checked_at: { type: 'string', format: 'date-time' },
    spf_status: string,
    spf_error: nullableString,
    dkim_status: string,
    dkim_error: nullableString,
    mx_status: string,
    mx_error: nullableString,
    return_path_status: string,
    return_path_error: nullableString,
    server: object({ uuid: string, name: string }),
  }),
};

const TRIGGERS: ReadonlyArray<[EventName, EventCategory, string]> = [
  ['MessageSent', 'message', 'Message successfully sent to a recipient'],
  ['MessageDelayed', 'message', 'Delivery failed temporarily, will be retried'],
  ['MessageDeliveryFailed', 'message', 'Message could not be delivered (permanent failure)'],
  ['MessageHeld', 'message', 'Message was held for review'],
  ['MessageBounced', 'message', 'A bounce notification was received for a previously accepted message'],
  ['MessageLinkClicked', 'message', 'A recipient clicked a link in the email'],
  ['SendLimitApproaching', 'server', 'Server has reached 90% of sending capacity'],
  ['SendLimitExceeded', 'server', 'Server has exceeded its sending limit'],
  ['DomainDNSError', 'server', 'SPF, DKIM, MX, or return path DNS validation failed for a domain'],
];

/** The nine FrontEngine events, in the page's order. */
export const events: readonly EventDefinition[] = TRIGGERS.map(([name, category, description]) => ({
  name,
  category,
  description,
  schema: {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `https://fe-webhooks.dev/schemas/${name}.json`,
    title: name,
    description,
    ...object({ event: { type: 'string', const: name }, payload: PAYLOAD_SCHEMAS[name] }),
  },
}));

export const EVENT_NAMES: readonly EventName[] = events.map((e) => e.name);

const BY_NAME = new Map<string, EventDefinition>(events.map((e) => [e.name, e]));

/** The definition of an exact event name, or undefined. */
export function eventDefinition(name: string): EventDefinition | undefined {
  return BY_NAME.get(name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && BY_NAME.has(name);
}
