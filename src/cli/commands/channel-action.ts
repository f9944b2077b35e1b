/** `channel rotate-token|delete|respond`: the action, loaded only when the command runs. */
import path from 'node:path';
import { resolveSetting } from '../../config/settings.js';
import { UserError, errorMessage } from '../../errors.js';
import { CHANNEL_ID_PATTERN } from '../../protocol/index.js';
import { channelFile, forgetRemembered, loadRemembered, relayKey, remember, type RelayChannel } from '../../tunnel/channel.js';
import {
  deleteChannel,
  rotateChannelToken,
  setChannelAnswer,
  type ChannelAnswer,
  type ChannelCredentials,
} from '../../tunnel/channel-admin.js';
import { printLine, type CliIO } from '../io.js';
import { parseRelayUrls } from '../relay-link.js';
import type { ChannelAction, ChannelCliOptions } from './channel-options.js';
import { maskSecret } from './config.js';


/** The channel to act on, and the saved link (.fe-webhooks/relay.json) when it is that channel. */
interface ChannelTarget extends ChannelCredentials {
  saved: RelayChannel | undefined;
}

/**
 * Flags (or FE_WEBHOOKS_* / config, as for listen) name the channel; without them, the
 * one `listen --relay` saved. --relay alone picks the relay and must match the saved one.
 */
async function resolveTarget(options: ChannelCliOptions, io: CliIO): Promise<ChannelTarget> {
  const setting = async (key: 'relay' | 'channel' | 'token', flag: string | undefined): Promise<string | undefined> =>
    (await resolveSetting(key, { cwd: io.cwd, env: io.env, flag }))?.value;
  const relayInput = await setting('relay', options.relay);
  const channel = await setting('channel', options.channel);
  const token = await setting('token', options.token);
  if ((channel === undefined) !== (token === undefined)) {
    throw new UserError('--channel and --token go together: give both, or neither to use the channel saved in .fe-webhooks/relay.json');
  }
  const remembered = await loadRemembered(io.cwd);
  // Instances of one relay (URL1,URL2) share its channels: the first is enough to act on one.
  const relayUrl =
    relayInput !== undefined ? (parseRelayUrls(relayInput)[0] as URL) : remembered ? parseRelayUrls(remembered.relay)[0] : undefined;
  if (channel !== undefined && token !== undefined) {
    if (!CHANNEL_ID_PATTERN.test(channel)) throw new UserError(`Invalid --channel "${channel}": expected the id the relay gave`);
    if (!relayUrl) throw new UserError('--relay is needed with --channel: the URL of the relay that holds the channel');
    const saved = remembered && remembered.relay === relayKey(relayUrl) && remembered.id === channel ? remembered : undefined;
    return { relayUrl, id: channel, token, saved };
  }
  if (!remembered || !relayUrl) {
    throw new UserError(
      `No channel saved in ${path.relative(io.cwd, channelFile(io.cwd))}: give --relay, --channel and --token, or run \`fe-webhooks ` +
        `listen --relay URL\` here first`,
    );
  }
  if (remembered.relay !== relayKey(relayUrl)) {
    throw new UserError(
      `The channel saved in ${path.relative(io.cwd, channelFile(io.cwd))} is on ${remembered.relay}, not ${relayKey(relayUrl)}: give ` +
        `--channel and --token for a channel there`,
    );
  }
  return { relayUrl, id: remembered.id, token: remembered.token, saved: remembered };
}

async function rotateToken(target: ChannelTarget, options: ChannelCliOptions, io: CliIO): Promise<void> {
  const token = await rotateChannelToken(target);
  const file = path.relative(io.cwd, channelFile(io.cwd));
  let savedError: string | undefined;
  if (target.saved) await remember(io.cwd, { ...target.saved, token }).catch((error: unknown) => (savedError = errorMessage(error)));
  // The token is shown only when it is not saved: it is then the one place it exists.
  const shown = !target.saved || savedError !== undefined;
  if (options.json) {
    printLine(
      io,
      JSON.stringify({
        action: 'rotate-token',
        relay: target.relayUrl.origin,
        channel: target.id,
        savedIn: shown ? null : file,
        ...(shown ? { token } : {}),
      }),
    );
  } else {
    printLine(
      io,
      `Rotated the token of channel ${target.id} on ${target.relayUrl.origin}: the old one no longer works, and listeners using it were ` +
        `closed.`,
    );
    printLine(
      io,
      shown
        ? `New token: ${token}  (shown once: the relay keeps only its hash)`
        : `New token ${maskSecret(token)} saved in ${file}: restart \`listen --relay\` here to use it.`,
    );
  }
  if (savedError !== undefined) throw new UserError(`Cannot save the new token in ${file}: ${savedError}. It is printed above: keep it`);
}

async function removeChannel(target: ChannelTarget, options: ChannelCliOptions, io: CliIO): Promise<void> {
  await deleteChannel(target);
  const file = path.relative(io.cwd, channelFile(io.cwd));
  if (target.saved) await forgetRemembered(io.cwd, target.id);
  if (options.json) {
    printLine(
      io,
      JSON.stringify({ action: 'delete', relay: target.relayUrl.origin, channel: target.id, forgotten: target.saved ? file : null }),
    );
    return;
  }
  printLine(io, `Deleted channel ${target.id} on ${target.relayUrl.origin} with its stored events; posts to its URL now get 404.`);
  if (target.saved) printLine(io, `Removed it from ${file}: the next \`listen --relay\` here creates a new channel.`);
}

/** The longest delay a custom answer may have (the relay's limit too). */
const MAX_RESPOND_DELAY_MS = 10_000;

/** `respond`: the answer senders get while no listener is connected; --reset goes back to 202 queued. */
async function setAnswer(target: ChannelTarget, options: ChannelCliOptions, io: CliIO): Promise<void> {
  if (
    options.reset &&
    (options.status !== undefined || options.delay !== undefined || options.body !== undefined || options.contentType !== undefined)
  ) {
    throw new UserError('--reset goes alone: it puts back the default answer, 202 queued');
  }
  const status = options.status ?? 202;
  if (!Number.isInteger(status) || status < 200 || status > 599)
    throw new UserError(`Invalid --status ${options.status}: expected a status from 200 to 599`);
  const delayMs = options.delay ?? 0;
  if (delayMs > MAX_RESPOND_DELAY_MS) throw new UserError(`Invalid --delay: at most 10s (FrontEngine gives up after 5 s anyway)`);
  const answer: ChannelAnswer | undefined = options.reset
    ? undefined
    : { status, delayMs, contentType: options.contentType ?? 'application/json', body: options.body ?? '' };
  await setChannelAnswer(target, answer);
  if (options.json) {
    printLine(io, JSON.stringify({ action: 'respond', relay: target.relayUrl.origin, channel: target.id, answer: answer ?? null }));
    return;
  }
  if (answer === undefined) printLine(io, `Channel ${target.id} answers 202 (queued) again while no listener is connected.`);
  else
    printLine(
      io,
      `While no listener is connected, channel ${target.id} now answers ${answer.status} (${answer.contentType}, ` +
        `${Buffer.byteLength(answer.body)} bytes) after ${answer.delayMs} ms. Events are still stored and delivered later.`,
    );
}

export async function channelCommand(action: ChannelAction, options: ChannelCliOptions, io: CliIO): Promise<void> {
  const target = await resolveTarget(options, io);
  if (action === 'rotate-token') await rotateToken(target, options, io);
  else if (action === 'respond') await setAnswer(target, options, io);
  else await removeChannel(target, options, io);
}

