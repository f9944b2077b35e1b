import type { IncomingMessage, ServerResponse } from 'node:http';
import { CHANNEL_ID_PATTERN } from '../protocol/index.js';
import { tokenMatches } from './credentials.js';
import { sendJson } from './send-json.js';
import type { ChannelRecord, ChannelStore } from './store.js';

/** RFC 6750's `Bearer <b64token>`. */
function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(req.headers.authorization ?? '')?.[1];
}

/**
 * Checks `Authorization: Bearer <token>` against the channel. Every use of the token
 * (admin, channel page, custom answer) refuses the same way: 401 without one, 404 for
 * an unknown channel, 403 for a wrong one. Undefined when refused (already answered).
 */
export async function authorizeChannel(
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  store: ChannelStore,
  onRefused: () => void,
): Promise<ChannelRecord | undefined> {
  const token = bearerToken(req);
  if (token === undefined) {
    sendJson(
      res,
      401,
      { error: "give the channel's token as Authorization: Bearer <token>" },
      { 'www-authenticate': 'Bearer realm="fe-webhooks relay"' },
    );
    return undefined;
  }
  const record = CHANNEL_ID_PATTERN.test(id) ? await store.channel(id) : undefined;
  if (!record) {
    sendJson(res, 404, { error: 'unknown channel' });
    return undefined;
  }
  if (!tokenMatches(token, record.tokenHash)) {
    onRefused();
    sendJson(res, 403, { error: 'wrong token for this channel' });
    return undefined;
  }
  return record;
}
