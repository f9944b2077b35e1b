export * from './messages.js';
export { decodeListenerMessage, decodeRelayMessage, isInvalid, CHANNEL_ID_PATTERN } from './decode.js';
