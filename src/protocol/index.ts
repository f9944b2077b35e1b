export * from './messages.js';
export { decodeListenerMessage, decodeRelayFrame, decodeRelayMessage, isInvalid, CHANNEL_ID_PATTERN, LOG_ID_PATTERN } from './decode.js';
export { encodeEventsFrame } from './events-frame.js';
export { ACKS_PER_FRAME, encodeAck, encodeAcksFrame } from './acks-frame.js';
export { answerHeartbeat, startHeartbeat, type Heartbeat } from './heartbeat.js';
export { OUTCOMES_PER_FRAME, noted, readNotices, sameNotice } from './outcomes.js';
