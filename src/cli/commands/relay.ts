import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { Option, type Command } from 'commander';
import { DEFAULT_MAX_BODY_BYTES } from '../../config/defaults.js';
import { STATE_DIR_NAME } from '../../config/state-dir.js';
import { InterruptedError, UserError, errorMessage } from '../../errors.js';
import { REDIS_URL_PATTERN } from '../../config/rules.js';
import { resolveSetting } from '../../config/settings.js';
import { describeRedisUrl } from '../../relay/redis-url.js';
import { DEFAULT_CREATION_LIMIT, DEFAULT_MAX_CHANNELS } from '../../relay/limits.js';
import type { RelayLogEntry } from '../../relay/server.js';
import type { ChannelStore, RetentionPolicy } from '../../relay/store.js';
import { isLoopbackHost, parseTargetUrl } from '../../util/url.js';
import { printableSnippet } from '../../util/printable.js';
import { readBytes } from '../inputs.js';
import { colors } from '../colors.js';
import { batchedLines } from '../batched-lines.js';
import { logLine, printLine, type CliIO } from '../io.js';
import { durationArg, portArg, positiveIntArg, sizeArg } from '../parsers.js';
import { watchStopSignals } from '../stop-signals.js';

export const DEFAULT_RELAY_PORT = 8787;
export const DEFAULT_RELAY_DATA_DIR = path.join(STATE_DIR_NAME, 'relay');
const DEFAULT_RETAIN_EVENTS = 100_000;
const DEFAULT_RETAIN_AGE_MS = 7 * 86_400_000;
/** Per channel: 200 events/s sustained, bursts of five seconds' worth. */
const DEFAULT_RATE_PER_SECOND = 200;
const BURST_SECONDS = 5;
/** A relay log line past this is cut: the --json log carries the whole text. */
const LOG_LINE_MAX_CHARS = 500;

export interface RelayCliOptions {
  port: number;
  host: string;
  dataDir: string;
  maxBody: number;
  tlsCert?: string;
  tlsKey?: string;
  publicUrl?: string;
  insecure: boolean;
  retainEvents: number;
  retainAge: number;
  rateLimit: number;
  maxChannels: number;
  channelBurst: number;
  channelRefill: number;
  redis?: string;
  json: boolean;
}

function describeLog(entry: RelayLogEntry): string {
  switch (entry.kind) {
    case 'channel-created':
      return `channel ${entry.channel} created`;
    case 'channels-full':
      return `the relay holds its maximum of ${entry.max} channels: POST /channels is answered 503 (raise --max-channels or remove ` +
        `channels)`;
    case 'listener-connected':
      return `listener connected to ${entry.channel}, delivering after #${entry.after}`;
    case 'listener-closed':
      return `listener ${entry.channel ? `of ${entry.channel} ` : ''}disconnected: ${entry.reason}`;
    case 'auth-refused':
      return `listener refused: ${entry.reason}`;
    case 'admin-refused':
      return `refused to ${entry.action === 'delete' ? 'delete' : 'rotate the token of'} ${entry.channel}: wrong token`;
    case 'token-rotated':
      return `${entry.channel}: token rotated; listeners with the old one were closed`;
    case 'channel-deleted':
      return `${entry.channel}: channel deleted with its stored events; its slot is free`;
    case 'event':
      return `${entry.channel} #${entry.seq} → ${entry.status} in ${entry.ms} ms`;
    case 'dropped':
      return `${entry.range.channel}: dropped #${entry.range.from}–#${entry.range.to} (${entry.range.reason})`;
    case 'store-error':
      return entry.channel === '-' ? entry.message : `could not store a request for ${entry.channel}: ${entry.message} (answered 503)`;
    case 'store-status':
      return entry.message;
    case 'request-error':
      return `could not handle a request: ${entry.message} (answered 503)`;
    case 'descriptor-limit':
      return (
        `the open-files limit (${entry.limit}) is below the ${entry.needed} descriptors ` +
        `${entry.maxChannels} channels with a listener each may need: ` +
        `raise it (ulimit -n ${entry.needed}, or LimitNOFILE=${entry.needed} under systemd) or lower --max-channels; ` +
        'past it, new connections are refused until others close'
      );
  }
}

/**
 * One human log line: our time stamp, then the description, escaped as a whole because
 * reasons and messages may quote a client (a WebSocket close reason, a store's error).
 */
export function relayLogLine(entry: RelayLogEntry, c: ChalkInstance, now = new Date()): string {
  const text = printableSnippet(describeLog(entry), LOG_LINE_MAX_CHARS);
  return `${c.dim(now.toISOString().slice(11, 23))} ${entry.kind === 'store-error' || entry.kind === 'request-error' ? c.red(text) : text}`;
}

/** Refuses plain HTTP on a public interface: webhook bodies and tokens would cross the network in clear. */
function checkExposure(options: RelayCliOptions): void {
  const tls = options.tlsCert !== undefined || options.tlsKey !== undefined;
  if (tls && (options.tlsCert === undefined || options.tlsKey === undefined)) throw new UserError('--tls-cert and --tls-key go together');
  if (!tls && !options.insecure && !isLoopbackHost(options.host)) {
    throw new UserError(
      `Refusing to serve plain http on ${options.host}: tokens and webhook bodies would cross the network in clear. Give --tls-cert and ` +
        `--tls-key, put a TLS proxy in front and bind 127.0.0.1, or pass --insecure`,
    );
  }
}

export async function relayCommand(options: RelayCliOptions, io: CliIO): Promise<void> {
  checkExposure(options);
  // 0 would mean no limit at all on channel creation: not a value anyone means.
  if (options.channelRefill <= 0) throw new UserError('Invalid --channel-refill: expected a duration above 0, e.g. 6s');
  const tls =
    options.tlsCert !== undefined && options.tlsKey !== undefined
      ? { cert: await readBytes(options.tlsCert, io), key: await readBytes(options.tlsKey, io) }
      : undefined;
  const publicUrl = options.publicUrl !== undefined ? parseTargetUrl(options.publicUrl, '--public-url') : undefined;
  const dataDir = path.resolve(io.cwd, options.dataDir);
  const c = colors(io, 'stderr');
  // A line per event: written in batches (see batched-lines.ts).
  const lines = batchedLines((text) => (options.json ? io.stdout : io.stderr).write(text));
  const report = (entry: RelayLogEntry): void => {
    const { kind, ...details } = entry;
    if (options.json) lines.line(JSON.stringify({ type: kind, time: new Date().toISOString(), ...details }));
    else lines.line(relayLogLine(entry, c));
  };
  const { startRelay } = await import('../../relay/server.js');
  const retention = { maxEvents: options.retainEvents, maxAgeMs: options.retainAge };
  const redisUrl = await resolveRedisUrl(options, io);
  const store = redisUrl !== undefined ? await openRedisStore(redisUrl, retention, report) : undefined;
  let relay;
  try {
    relay = await startRelay({
      port: options.port,
      host: options.host,
      dataDir,
      maxBodyBytes: options.maxBody,
      retention,
      rateLimit: { perSecond: options.rateLimit, burst: Math.max(1, options.rateLimit * BURST_SECONDS) },
      maxChannels: options.maxChannels,
      creationLimit: { ...DEFAULT_CREATION_LIMIT, burst: options.channelBurst, refillMs: options.channelRefill },
      ...(tls ? { tls } : {}),
      ...(publicUrl ? { publicUrl } : {}),
      ...(store ? { store } : {}),
      onLog: report,
    });
  } catch (error) {
    await store?.close();
    lines.flush();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EROFS') throw new UserError(`Cannot use ${dataDir} or the port: ${errorMessage(error)}`);
    throw error;
  }
  lines.flush();
  // Before the ready line, as listen does: whoever reads it (a supervisor, a test) may
  // send SIGTERM at once, and until the handler is in, Node's default action kills the
  // relay without closing it (it happened under load: exit by signal, not 0).
  const stopSignals = watchStopSignals(io.stderr);
  if (options.json) {
    printLine(
      io,
      JSON.stringify({
        type: 'ready',
        url: relay.url,
        port: relay.port,
        ...(redisUrl !== undefined ? { redis: describeRedisUrl(redisUrl) } : { dataDir }),
      }),
    );
  } else {
    printLine(io, `Relay ready at ${relay.url}`);
    logLine(io, `Create a channel:  curl -X POST ${relay.url}/channels`);
    logLine(io, `Or let listen do it:  fe-webhooks listen --relay ${relay.url} --forward localhost:3000`);
    logLine(
      io,
      c.dim(
        `Events are stored in ${redisUrl !== undefined ? `Redis at ${describeRedisUrl(redisUrl)}` : dataDir} before they are answered.`,
      ),
    );
  }
  const signal = await stopSignals.received;
  await relay.close();
  lines.flush();
  if (signal === 'SIGINT') throw new InterruptedError('');
}

/** --redis > FE_WEBHOOKS_REDIS_URL > config "redis"; none: the file log. */
async function resolveRedisUrl(options: RelayCliOptions, io: CliIO): Promise<string | undefined> {
  const url = (await resolveSetting('redis', { cwd: io.cwd, env: io.env, flag: options.redis }))?.value;
  if (url === undefined || url === '') return undefined;
  if (!REDIS_URL_PATTERN.test(url)) throw new UserError(`Invalid Redis URL "${describeRedisUrl(url)}": expected redis://host:port[/db]`);
  return url;
}

async function openRedisStore(url: string, retention: RetentionPolicy, report: (entry: RelayLogEntry) => void): Promise<ChannelStore> {
  const { RedisChannelStore } = await import('../../relay/redis-store.js');
  try {
    return await RedisChannelStore.open({
      url,
      retention,
      onDropped: (range) => report({ kind: 'dropped', range }),
      onStatus: (message, healthy) => report({ kind: healthy ? 'store-status' : 'store-error', channel: '-', message }),
    });
  } catch (error) {
    throw new UserError(`Cannot start the relay on Redis: ${errorMessage(error)}. Start Redis, or drop --redis to use the file log`);
  }
}

export function register(command: Command, io: CliIO): void {
  command
    .option('-p, --port <port>', 'port to listen on (0: any free port)', portArg, DEFAULT_RELAY_PORT)
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--data-dir <dir>', 'where channel logs are stored', DEFAULT_RELAY_DATA_DIR)
    .option('--max-body <size>', 'largest request body accepted (413 above)', sizeArg('--max-body'), DEFAULT_MAX_BODY_BYTES)
    .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM)')
    .option('--tls-key <file>', 'the certificate\'s private key (PEM)')
    .option('--public-url <url>', 'the URL the relay is reached at, for channel URLs (behind a proxy)')
    .option('--insecure', 'allow plain http on a non-loopback interface', false)
    .option(
      '--retain-events <n>',
      'events kept per channel, oldest dropped first',
      positiveIntArg('--retain-events'),
      DEFAULT_RETAIN_EVENTS,
    )
    .option('--retain-age <duration>', 'drop events older than this', durationArg('--retain-age'), DEFAULT_RETAIN_AGE_MS)
    .addOption(
      new Option('--rate-limit <n>', 'events per second per channel before 429')
        .argParser(positiveIntArg('--rate-limit'))
        .default(DEFAULT_RATE_PER_SECOND),
    )
    .option(
      '--max-channels <n>',
      'channels the relay holds at most (503 past it; shared by instances on one Redis)',
      positiveIntArg('--max-channels'),
      DEFAULT_MAX_CHANNELS,
    )
    .option(
      '--channel-burst <n>',
      'channels one client address may create at once (429 past it)',
      positiveIntArg('--channel-burst'),
      DEFAULT_CREATION_LIMIT.burst,
    )
    .option(
      '--channel-refill <duration>',
      'then one more channel per address per this long',
      durationArg('--channel-refill'),
      DEFAULT_CREATION_LIMIT.refillMs,
    )
    .option(
      '--redis <url>',
      'share channels with other relay instances through this Redis: redis://host:port[/db] (env FE_WEBHOOKS_REDIS_URL, config "redis")',
    )
    .option('--json', 'machine-readable lines on stdout (the first is {"type":"ready","url":...})', false)
    .addHelpText(
      'after',
      `\nExamples:\n  $ fe-webhooks relay --port 8080\n` +
        `  $ fe-webhooks relay --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem --public-url https://hooks.example.com\n` +
        `  $ fe-webhooks relay --redis redis://127.0.0.1:6379 --port 8081   # several instances, one Redis
  $ fe-webhooks listen --relay https://hooks.example.com --forward localhost:3000`,
    )
    .action((options: RelayCliOptions) => relayCommand(options, io));
}
