import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizeChannel } from './channel-auth.js';
import { hashToken, newToken } from './credentials.js';
import { sendJson } from './send-json.js';
import type { ChannelStore, Revocation } from './store.js';

/**
 * What the channel's token allows besides listening: `POST /channels/<id>/token` gives a
 * new token (the old one stops working at once) and `DELETE /channels/<id>` removes the
 * channel and its log. Both take `Authorization: Bearer <token>`.
 */
export interface ChannelAdminTarget {
  id: string;
  action: 'rotate-token' | 'delete';
}

export interface ChannelAdminContext {
  store: ChannelStore;
  /** Closes the channel's listeners on this instance (with a close code saying why). */
  closeListeners(id: string, revocation: Revocation): void;
  /** Done and durable: log it, forget what is cached of a deleted channel. */
  changed(id: string, revocation: Revocation): void;
  /** A wrong token (never the token itself). */
  onRefused(id: string, action: ChannelAdminTarget['action']): void;
}

/** `/channels/<id>` and `/channels/<id>/token` (a query is ignored); undefined for any other path. */
export function channelAdminTarget(url: string): ChannelAdminTarget | undefined {
  const match = /^\/channels\/([^/?#]+)(\/token)?(?:\?.*)?$/s.exec(url);
  if (!match) return undefined;
  return { id: match[1] as string, action: match[2] ? 'rotate-token' : 'delete' };
}

export async function handleChannelAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  target: ChannelAdminTarget,
  context: ChannelAdminContext,
): Promise<void> {
  req.resume();
  const method = target.action === 'rotate-token' ? 'POST' : 'DELETE';
  if (req.method !== method) return sendJson(res, 405, { error: `use ${method} here` }, { allow: method });
  const record = await authorizeChannel(req, res, target.id, context.store, () => context.onRefused(target.id, target.action));
  if (!record) return;
  if (target.action === 'delete') {
    // The listeners go first: nothing streams from a log being removed.
    context.closeListeners(target.id, 'channel-deleted');
    if (!(await context.store.deleteChannel(target.id))) return sendJson(res, 404, { error: 'unknown channel' });
    context.changed(target.id, 'channel-deleted');
    res.writeHead(204).end();
    return;
  }
  const fresh = newToken();
  const outcome = await context.store.replaceToken(target.id, { from: record.tokenHash, to: hashToken(fresh) });
  if (outcome === 'unknown') return sendJson(res, 404, { error: 'unknown channel' });
  // Another rotation with the same token won: this token no longer works either.
  if (outcome === 'changed') return sendJson(res, 403, { error: 'wrong token for this channel' });
  context.closeListeners(target.id, 'token-rotated');
  context.changed(target.id, 'token-rotated');
  sendJson(res, 200, { token: fresh }, { 'cache-control': 'no-store' });
}
