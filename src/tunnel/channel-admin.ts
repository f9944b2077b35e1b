import { request } from 'undici';
import { UserError, errorMessage } from '../errors.js';
import { relayKey, relayRefusal } from './channel.js';

/** The relay's channel endpoints that take the token: rotate it, delete the channel. */

const ADMIN_TIMEOUT_MS = 10_000;

export interface ChannelCredentials {
  relayUrl: URL;
  id: string;
  token: string;
}

async function call(
  channel: ChannelCredentials,
  method: 'POST' | 'PUT' | 'DELETE',
  suffix: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  const endpoint = new URL(`channels/${encodeURIComponent(channel.id)}${suffix}`, `${relayKey(channel.relayUrl)}/`);
  try {
    const response = await request(endpoint, {
      method,
      headers:
        body === undefined
          ? { authorization: `Bearer ${channel.token}` }
          : { authorization: `Bearer ${channel.token}`, 'content-type': 'application/json' },
      body,
      headersTimeout: ADMIN_TIMEOUT_MS,
      bodyTimeout: ADMIN_TIMEOUT_MS,
    });
    return { status: response.statusCode, text: await response.body.text() };
  } catch (error) {
    throw new UserError(`Cannot reach the relay at ${channel.relayUrl.origin}: ${errorMessage(error)}`);
  }
}

/** The relay's refusal as one line: wrong token and unknown channel say what to do. */
function refused(channel: ChannelCredentials, status: number, text: string): UserError {
  const relay = `The relay at ${channel.relayUrl.origin}`;
  const reason = relayRefusal(text);
  if (status === 401 || status === 403)
    return new UserError(
      `${relay} refused the token for channel ${channel.id} (HTTP ${status}): check --token, or the token in .fe-webhooks/relay.json`,
    );
  if (status === 404 && reason === 'unknown channel') return new UserError(`${relay} has no channel ${channel.id} (deleted already?)`);
  if (status === 404 || status === 405)
    return new UserError(`${relay} does not offer this (HTTP ${status}); is it an older fe-webhooks relay?`);
  return new UserError(`${relay} answered HTTP ${status}${reason !== undefined ? `: ${reason}` : ''}`);
}

/** POST /channels/<id>/token → the new token; the old one no longer works. */
export async function rotateChannelToken(channel: ChannelCredentials): Promise<string> {
  const { status, text } = await call(channel, 'POST', '/token');
  if (status !== 200) throw refused(channel, status, text);
  let token: unknown;
  try {
    token = (JSON.parse(text) as { token?: unknown }).token;
  } catch {
    // Checked below.
  }
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{16,256}$/.test(token)) {
    throw new UserError(`The relay at ${channel.relayUrl.origin} answered 200 without a new token; is it an fe-webhooks relay?`);
  }
  return token;
}

/** DELETE /channels/<id>: the channel and its stored events are gone. */
export async function deleteChannel(channel: ChannelCredentials): Promise<void> {
  const { status, text } = await call(channel, 'DELETE', '');
  if (status !== 204) throw refused(channel, status, text);
}

/** What the relay answers senders while no listener is connected (the relay's CustomAnswer). */
export interface ChannelAnswer {
  status: number;
  contentType: string;
  body: string;
  delayMs: number;
}

/** PUT /channels/<id>/answer sets it; undefined DELETEs it (back to 202 queued). */
export async function setChannelAnswer(channel: ChannelCredentials, answer: ChannelAnswer | undefined): Promise<void> {
  const { status, text } =
    answer === undefined ? await call(channel, 'DELETE', '/answer') : await call(channel, 'PUT', '/answer', JSON.stringify(answer));
  if (status !== 200) throw refused(channel, status, text);
}
