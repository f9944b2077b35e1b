/**
 * fe-webhooks as a library: the event catalogue and its types, the sample generator,
 * and FrontEngine's signature scheme. No CLI code is reachable from here.
 */
export { sign, verify, matchingSecretIndex, SIGNATURE_HEADER } from './signing/index.js';
export type { Body } from './signing/index.js';
export { events, EVENT_NAMES, eventDefinition, isEventName } from './events/catalog.js';
export type { EventDefinition, EventCategory } from './events/catalog.js';
export { findEventName, resolveEventName } from './events/names.js';
export { generate, SEEDED_CLOCK } from './events/generate.js';
export type { GenerateOptions } from './events/generate.js';
export { composeBody } from './events/compose.js';
export type { ComposeOptions, ComposedBody } from './events/compose.js';
export { validateEvent } from './events/validate.js';
export type { EventValidation } from './events/validate.js';
export { validateAgainst } from './events/schema.js';
export type { JsonSchema, SchemaViolation } from './events/schema.js';
export type * from './events/types.js';
export { UserError, CheckFailedError } from './errors.js';
export { startRelay } from './relay/server.js';
export type { RelayOptions, RunningRelay, RelayLogEntry } from './relay/server.js';
export type {
  ChannelStore,
  EventLog,
  ChannelRecord,
  StoredEvent,
  NewEvent,
  RetentionPolicy,
  DroppedRange,
  TokenReplacement,
  Revocation,
} from './relay/store.js';
export { openTunnel, TunnelAuthError, TunnelRevokedError, TunnelReplacedError } from './tunnel/client.js';
export type { Tunnel, TunnelOptions, TunnelStatus, TunnelRequest, TunnelAnswer, TunnelHandler } from './tunnel/client.js';
export { openCursorFile, memoryCursor } from './tunnel/cursor-file.js';
export type { DeliveryCursor } from './tunnel/cursor-file.js';
export { composeStory } from './scenario/compose-story.js';
export type { StoryEvent, ComposeStoryOptions } from './scenario/compose-story.js';
export { parseStory } from './scenario/parse-story.js';
export { BUILTIN_STORIES, builtinStory } from './scenario/builtin.js';
export type { Story, StoryStep } from './scenario/story.js';
export { drillOrder } from './scenario/drill.js';
export type { DrillDelivery, DrillOptions } from './scenario/drill.js';
