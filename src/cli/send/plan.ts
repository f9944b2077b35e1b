import { resolveDeliveryTarget, type DeliveryTarget } from '../targets.js';
import { FRONTENGINE_RETRY_DELAYS_MS } from '../../config/defaults.js';
import { resolveSigningSecret } from '../../config/secret.js';
import { parseHeaderLine, type HeaderList } from '../../delivery/request.js';
import { UserError } from '../../errors.js';
import { EVENT_NAMES } from '../../events/catalog.js';
import { resolveEventName } from '../../events/names.js';
import type { FieldOverride } from '../../events/overrides.js';
import type { EventName } from '../../events/types.js';
import { assertDeliverableUrl } from '../../util/url.js';
import type { SendCliOptions } from './options.js';
import { readBytes, readJsonObjectFile } from '../inputs.js';
import type { CliIO } from '../io.js';
import { packageVersion } from '../version.js';

/** Load mode's connection count when --count comes without --concurrency (autocannon's default too). */
export const DEFAULT_CONCURRENCY = 10;

/** A body given with --body: sent verbatim, labelled with its event when it names one. */
export interface VerbatimBody {
  label: string;
  bytes: Buffer;
  /** The file it came from (`-` for stdin), for the curl line. */
  file: string;
}

export type SendMode = 'deliver' | 'forge' | 'load';

/** Everything `send` needs, validated: nothing below this reads flags, config or files. */
export interface SendPlan {
  mode: SendMode;
  dryRun: boolean;
  json: boolean;
  /** The events to generate, in order (empty with --body). */
  events: EventName[];
  body?: VerbatimBody;
  partial?: Record<string, unknown>;
  overrides: FieldOverride[];
  /** Compose the samples from this seed (repeatable bodies). */
  seed?: number;
  url: URL;
  /** No --url and no config url: aiming at the local `listen`, which may not be running. */
  urlIsDefault: boolean;
  secret: string;
  userAgent: string;
  headers: HeaderList;
  timeoutMs: number;
  insecure: boolean;
  repeat: number;
  retry: boolean;
  timeScale: number;
  /** duplicates: the --duplicates probability (0 without it). */
  load: { count: number; concurrency: number; ratePerSec?: number; duplicates: number };
}

/** The longest wait a Node timer can hold (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function conflict(a: string, b: string): never {
  throw new UserError(`${a} cannot be combined with ${b}`);
}

function mode(options: SendCliOptions): SendMode {
  const load = options.count !== undefined;
  if (!load && options.concurrency !== undefined) throw new UserError('--concurrency needs --count (load mode)');
  if (!load && options.rate !== undefined) throw new UserError('--rate needs --count (load mode)');
  if (!load && options.duplicates !== undefined)
    throw new UserError('--duplicates needs --count (load mode); --repeat sends the same bytes again, and `scenario` drills a story');
  if (options.timeScale !== undefined && !options.retry) throw new UserError('--time-scale only applies with --retry');
  const longestWaitMs = Math.max(...FRONTENGINE_RETRY_DELAYS_MS) * (options.timeScale ?? 1);
  if (longestWaitMs > MAX_TIMER_MS) {
    const most = Math.floor(MAX_TIMER_MS / Math.max(...FRONTENGINE_RETRY_DELAYS_MS));
    throw new UserError(`Invalid --time-scale ${options.timeScale}: the 12 h retry would wait longer than 24 days; use at most ${most}`);
  }
  if (load) {
    if (options.body !== undefined) conflict('--count', '--body (load mode sends unique events)');
    if (options.seed !== undefined) conflict('--count', '--seed (load mode sends unique events)');
    if (options.repeat !== undefined) conflict('--count', '--repeat');
    if (options.retry) conflict('--count', '--retry');
    if (options.badSignature) conflict('--count', '--bad-signature');
    if (options.dryRun) conflict('--count', '--dry-run');
    return 'load';
  }
  if (options.badSignature) {
    if (options.repeat !== undefined) conflict('--bad-signature', '--repeat');
    if (options.retry) conflict('--bad-signature', '--retry');
    return 'forge';
  }
  return 'deliver';
}

function eventsToSend(inputs: string[], options: SendCliOptions): EventName[] {
  if (options.all && inputs.length > 0) throw new UserError('Name events or use --all, not both');
  if (options.all && options.body !== undefined) conflict('--all', '--body');
  if (options.all) return [...EVENT_NAMES];
  const events = inputs.map(resolveEventName);
  if (events.length === 0 && options.body === undefined) {
    throw new UserError('Name at least one event (e.g. fe-webhooks send MessageBounced), or use --all or --body');
  }
  if (options.body !== undefined && events.length > 1) throw new UserError('--body sends one body: name at most one event');
  return events;
}

/** The `"event"` of a --body, read without re-serialising anything; the bytes are sent as they are. */
function eventOf(bytes: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    const event = (parsed as { event?: unknown } | null)?.event;
    if (typeof event === 'string' && event !== '') return event;
  } catch {
    // Not JSON: the user may be testing exactly that.
  }
  return undefined;
}

/** A --body's label: the event named on the command line, which must be the body's own when it has one. */
function verbatimBody(bytes: Buffer, file: string, named: EventName | undefined): VerbatimBody {
  const own = eventOf(bytes);
  if (named !== undefined && own !== undefined && own !== named) {
    throw new UserError(`--body ${file} is a ${JSON.stringify(own)} event, not ${named}: name no event, or give a ${named} body`);
  }
  return { bytes, file, label: named ?? own ?? '(body)' };
}

function target(options: SendCliOptions, io: CliIO): Promise<DeliveryTarget> {
  return resolveDeliveryTarget({ flag: options.url, flagName: '--url', settings: ['url'], timeoutMs: options.timeout }, io);
}

/** Validates every flag and reads every input before anything is sent: bad input never half-sends. */
export async function resolveSendPlan(inputs: string[], options: SendCliOptions, io: CliIO): Promise<SendPlan> {
  const sendMode = mode(options);
  const events = eventsToSend(inputs, options);
  if (options.body !== undefined && (options.set !== undefined || options.data !== undefined || options.seed !== undefined)) {
    conflict('--body', '--set/--data/--seed (the body is sent verbatim)');
  }
  const headers = (options.header ?? []).map(parseHeaderLine);
  // A repeated header is sent repeated, but a request with two Hosts is one servers must refuse (RFC 9112 §3.2).
  if (headers.filter(([name]) => name.toLowerCase() === 'host').length > 1) throw new UserError('--header "Host: …" can be given once');
  const { url, isDefault, timeoutMs } = await target(options, io);
  assertDeliverableUrl(url, options.insecure ?? false);
  const partial = options.data !== undefined ? await readJsonObjectFile(options.data, io) : undefined;
  let body: VerbatimBody | undefined;
  if (options.body !== undefined) {
    body = verbatimBody(await readBytes(options.body, io), options.body, events[0]);
  }
  const { secret } = await resolveSigningSecret({ flag: options.secret, env: io.env, cwd: io.cwd });
  const load = {
    count: options.count ?? 0,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    ratePerSec: options.rate,
    duplicates: options.duplicates ?? 0,
  };
  return {
    mode: sendMode,
    dryRun: options.dryRun ?? false,
    json: options.json ?? false,
    events,
    body,
    partial,
    overrides: options.set ?? [],
    seed: options.seed,
    url,
    urlIsDefault: isDefault,
    secret,
    userAgent: `fe-webhooks/${packageVersion()}`,
    headers,
    timeoutMs,
    insecure: options.insecure ?? false,
    repeat: options.repeat ?? 1,
    retry: options.retry ?? false,
    timeScale: options.timeScale ?? 1,
    load,
  };
}
