import type { Command } from 'commander';
import { DEFAULT_CAPTURES_FILE, DEFAULT_SEND_URL } from '../../config/defaults.js';
import { resolveDeliveryTarget, type DeliveryTarget } from '../targets.js';
import { CheckFailedError, UserError } from '../../errors.js';
import { resolveEventName } from '../../events/names.js';
import { replayHeaders, replayPath, replayUrl } from '../../replay/headers.js';
import { eventOf, selectCaptures } from '../../replay/select.js';
import { assertDeliverableUrl } from '../../util/url.js';
import { openInput } from '../../verify/inputs.js';
import { colors } from '../colors.js';
import { logLine, type CliIO } from '../io.js';
import { durationArg, positiveIntArg } from '../parsers.js';
import { printDelivery } from '../print-delivery.js';

export interface ReplayCliOptions {
  from?: string;
  last?: number;
  event?: string;
  to?: string;
  timeout?: number;
  insecure?: boolean;
  json?: boolean;
}

async function replayTarget(options: ReplayCliOptions, io: CliIO): Promise<DeliveryTarget> {
  const target = await resolveDeliveryTarget(
    { flag: options.to, flagName: '--to', settings: ['forward', 'url'], timeoutMs: options.timeout },
    io,
  );
  assertDeliverableUrl(target.url, options.insecure ?? false);
  return target;
}

/** Re-sends captured requests with their exact bytes and headers; exit 1 unless every one got a 2xx in time. */
export async function replayCommand(ids: string[], options: ReplayCliOptions, io: CliIO): Promise<void> {
  if (ids.length > 0 && options.last !== undefined) throw new UserError('Give capture ids or --last, not both');
  const event = options.event !== undefined ? resolveEventName(options.event) : undefined;
  const target = await replayTarget(options, io);
  const file = options.from ?? DEFAULT_CAPTURES_FILE;
  const input = await openInput({ kind: 'file', path: file }, io.cwd);
  const { requests, unusable } = await selectCaptures(input.items, { ids, last: options.last ?? 1, event }, file);
  // An empty body with the original signature would only be a confusing 401 (or worse, a 2xx).
  const bodiless = requests.find((request) => request.bodyMissing !== undefined);
  if (bodiless) throw new UserError(`Cannot replay ${bodiless.id ?? bodiless.location}: ${bodiless.bodyMissing}`);
  if (unusable > 0) logLine(io, colors(io, 'stderr').dim(`${unusable} unreadable, refused or non-POST request(s) in ${file} left out`));
  if (requests.length === 0) throw new UserError(`Nothing to replay in ${file}${event ? ` for --event ${event}` : ''}`);
  // Loaded here, not at the top: they bring undici (~110 files), which `replay --help`
  // and a usage error need not wait for.
  const [{ deliver }, { createAgent }] = await Promise.all([import('../../delivery/deliver.js'), import('../../delivery/dispatcher.js')]);
  const dispatcher = createAgent({ insecure: options.insecure ?? false, connectTimeoutMs: target.timeoutMs });
  let failed = 0;
  try {
    for (const request of requests) {
      const outcome = await deliver({
        url: replayUrl(target.url, request.path),
        path: replayPath(target.url, request.path),
        // The captured bytes as they are: a string is their exact UTF-8 text.
        body: request.body,
        headers: replayHeaders(request.headers ?? {}),
        method: 'POST',
        timeoutMs: target.timeoutMs,
        dispatcher,
      });
      if (target.isDefault && outcome.error?.kind === 'refused') {
        throw new CheckFailedError(
          `Nothing is listening at ${target.url.href} (the default target). Pass --to, or set "forward" in the config`,
        );
      }
      const label = request.id ?? request.location;
      printDelivery(
        io,
        { event: eventOf(request) ?? '(body)', attempt: 1, outcome },
        { json: options.json ?? false, tag: label, extra: { id: label } },
      );
      if (!outcome.ok) failed++;
    }
  } finally {
    await dispatcher.destroy();
  }
  if (failed > 0)
    throw new CheckFailedError(`${failed} of ${requests.length} replays failed (FrontEngine needs a 2xx within ${target.timeoutMs} ms)`);
}

export function register(command: Command, io: CliIO): void {
  command
    .argument('[ids...]', 'capture ids (or unique prefixes); default: the last capture')
    .option('--from <file>', `captures file (JSON Lines or HAR) (default: ${DEFAULT_CAPTURES_FILE})`)
    .option('--last <n>', 'replay the last N captures', positiveIntArg('--last'))
    .option('--event <event>', 'only captures of this event')
    .option(
      '--to <url>',
      `where to send (default: the config's forward or url, else ${DEFAULT_SEND_URL}); a bare host:port gets the captured path`,
    )
    .option(
      '--timeout <duration>',
      "a replay fails without a complete 2xx within this (default 5s, FrontEngine's rule)",
      durationArg('--timeout'),
    )
    .option('--insecure', 'allow plain http to non-loopback hosts and untrusted certificates')
    .option('--json', 'one JSON object per replay')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks replay --to localhost:3000                # the last capture\n' +
        '  $ fe-webhooks replay req_0mwyd5k2 --to localhost:3000\n' +
        '  $ fe-webhooks replay --last 5 --event MessageBounced --to https://staging.example.com/hooks',
    )
    .action((ids: string[], options: ReplayCliOptions) => replayCommand(ids, options, io));
}
