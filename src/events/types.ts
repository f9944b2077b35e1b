/**
 * TypeScript types of FrontEngine webhook bodies: one interface per payload and a
 * union discriminated on `event`. Shapes follow the provider page; MessageDelayed,
 * MessageDeliveryFailed and MessageHeld share MessageSent's shape (Postal's model).
 */

export type MessageEventName =
  | 'MessageSent'
  | 'MessageDelayed'
  | 'MessageDeliveryFailed'
  | 'MessageHeld'
  | 'MessageBounced'
  | 'MessageLinkClicked';
export type ServerEventName = 'SendLimitApproaching' | 'SendLimitExceeded' | 'DomainDNSError';
export type EventName = MessageEventName | ServerEventName;

/** The message a delivery status is about. */
export interface DeliveredMessage {
  id: number;
  token: string;
  direction: string;
  message_id: string;
  to: string;
  from: string;
  subject: string;
  timestamp: number;
  /** NotChecked, Spam or NotSpam in Postal's model. */
  spam_status: string;
  tag: string | null;
}

/** MessageSent / MessageDelayed / MessageDeliveryFailed / MessageHeld. */
export interface DeliveryStatusPayload {
  /** sent, softfail, hardfail or held (Postal's statuses, lower case). */
  status: string;
  details: string;
  /** The remote server's SMTP reply. */
  output: string;
  /** Seconds the delivery attempt took; null when nothing was attempted (held). */
  time: number | null;
  sent_with_ssl: boolean | null;
  timestamp: number;
  message: DeliveredMessage;
}

export interface MessageSummary {
  id: number;
  token: string;
  to: string;
  from: string;
  subject: string;
}

export interface MessageBouncedPayload {
  original_message: MessageSummary;
  bounce: MessageSummary;
}

export interface MessageLinkClickedPayload {
  url: string;
  token: string;
  ip_address: string;
  user_agent: string;
  message: MessageSummary & { tag: string | null };
}

export interface MailServer {
  uuid: string;
  name: string;
  permalink: string;
  organization: string;
}

export interface SendLimitPayload {
  server: MailServer;
  volume: number;
  limit: number;
}

export interface DomainDNSErrorPayload {
  domain: string;
  uuid: string;
  dns_checked_at: string;
  spf_status: string;
  spf_error: string | null;
  dkim_status: string;
  dkim_error: string | null;
  mx_status: string;
  mx_error: string | null;
  return_path_status: string;
  return_path_error: string | null;
  server: { uuid: string; name: string };
}

export interface PayloadByEvent {
  MessageSent: DeliveryStatusPayload;
  MessageDelayed: DeliveryStatusPayload;
  MessageDeliveryFailed: DeliveryStatusPayload;
  MessageHeld: DeliveryStatusPayload;
  MessageBounced: MessageBouncedPayload;
  MessageLinkClicked: MessageLinkClickedPayload;
  SendLimitApproaching: SendLimitPayload;
  SendLimitExceeded: SendLimitPayload;
  DomainDNSError: DomainDNSErrorPayload;
}

/** One webhook body, discriminated on `event`. */
export type WebhookEvent = { [E in EventName]: { event: E; payload: PayloadByEvent[E] } }[EventName];

/** The body of one particular event type. */
export type WebhookEventOf<E extends EventName> = Extract<WebhookEvent, { event: E }>;
