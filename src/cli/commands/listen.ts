import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_CAPTURES_FILE, DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT } from '../../config/defaults.js';
import type { FileConfig } from '../../config/file-config.js';
import { resolveSetting, type SettingKey } from '../../config/settings.js';
import { resolveSigningSecret } from '../../config/secret.js';
import { InterruptedError, UserError } from '../../errors.js';
import { formatBytes, parseDurationMs } from '../../util/units.js';
import { parseTargetUrl } from '../../util/url.js';
import { colors } from '../colors.js';
import { printableSnippet } from '../../util/printable.js';
import { logLine, printLine, type CliIO } from '../io.js';
import { collect, durationArg, portArg, positiveIntArg, sizeArg } from '../parsers.js';
import { createRequestPrinter } from '../listen-printer.js';
import { watchStopSignals } from '../stop-signals.js';
import { positiveNumberArg } from '../send/args.js';
import { describeFsError } from '../../capture/appender.js';
import type { RelayLink } from '../relay-link.js';

export interface ListenCliOptions {
  port?: number;
  host?: string;
  inspectorPort?: number;
  forward?: string;
  secret?: string;
  /** A file, false for --no-save, undefined for the default file. */
  save?: string | false;
  respond?: number;
  delay?: number;
  maxBody?: number;
  timeout?: number;
  relay?: string;
  channel?: string;
  token?: string;
  concurrency?: number;
  retryScale?: number;
  /** --allow-host, repeatable. */
  allowHost?: string[];
  json: boolean;
}

function statusArg(value: string): number {
  const status = Number(value);
  if (!/^\d{3}$/.test(value) || status < 100 || status > 599) {
    throw new InvalidArgumentError(`Invalid --respond "${value}": expected an HTTP status, 100-599`);
  }
  return status;
}

/** --allow-host names (else FE_WEBHOOKS_ALLOW_HOSTS, else config `allowHosts`), each checked to be a host name. */
async function allowedHostNames(
  flag: string[] | undefined,
  setting: (key: 'allowHosts', flag: string[] | undefined) => Promise<string[] | undefined>,
): Promise<string[] | undefined> {
  const names = await setting('allowHosts', flag);
  if (names === undefined) return undefined;
  const { isValidAllowedHost } = await import('../../listen/host-guard.js');
  for (const name of names) {
    if (!isValidAllowedHost(name)) {
      throw new UserError(
        `Invalid --allow-host ${JSON.stringify(name)}: expected a host name such as hooks.example.test (no scheme, no port; ` +
          `.example.test allows its subdomains too)`,
      );
    }
  }
  return names;
}

/** Serves until Ctrl-C, then finishes in-flight forwards, flushes captures and exits 130. */
export async function listenCommand(options: ListenCliOptions, io: CliIO): Promise<void> {
  // Flags, then FE_WEBHOOKS_<KEY>, then the config file.
  const setting = async <K extends SettingKey>(key: K, flag: FileConfig[K] | undefined): Promise<FileConfig[K] | undefined> =>
    (await resolveSetting(key, { cwd: io.cwd, env: io.env, flag }))?.value;
  const forwardInput = await setting('forward', options.forward);
  const forward = forwardInput !== undefined ? parseTargetUrl(forwardInput, '--forward target') : undefined;
  if (forward && (options.respond !== undefined || options.delay !== undefined)) {
    throw new UserError('--respond and --delay shape the answer without --forward; with --forward your app answers');
  }
  const relayInput = await setting('relay', options.relay);
  if (options.retryScale !== undefined && relayInput === undefined) {
    throw new UserError('--retry-scale only applies with --relay (locally, your sender retries)');
  }
  const timeoutInput = await setting('timeout', options.timeout);
  const timeoutMs = timeoutInput !== undefined ? parseDurationMs(timeoutInput, 'timeout') : undefined;
  const secret = await resolveSigningSecret({ flag: options.secret, env: io.env, cwd: io.cwd });
  const capturesFile = options.save === false ? undefined : path.resolve(io.cwd, options.save ?? DEFAULT_CAPTURES_FILE);
  let count = 0;
  const printer = createRequestPrinter(io, options.json);
  // Loaded here, not at the top: the server and the tunnel bring undici and ws (~120
  // files), which `listen --help` and a usage error need not wait for.
  const { startListen } = await import('../../listen/index.js');
  const allowHosts = await allowedHostNames(options.allowHost, setting);
  const listener = await startListen({
    host: (await setting('host', options.host)) ?? DEFAULT_LISTEN_HOST,
    port: (await setting('port', options.port)) ?? DEFAULT_LISTEN_PORT,
    inspectorPort: options.inspectorPort,
    forward,
    secret: secret.secret,
    capturesFile,
    respondStatus: options.respond,
    respondDelayMs: options.delay,
    maxBodyBytes: options.maxBody,
    forwardTimeoutMs: timeoutMs,
    ...(allowHosts ? { allowHosts } : {}),
    onRecord(record) {
      count++;
      printer.print(record);
    },
    captures: {
      // One line when the disk refuses captures and one when it takes them again: the
      // cause is the disk, not the app, and nothing is forwarded that cannot be recorded.
      onStall(error) {
        printer.flush();
        logLine(
          io,
          colors(io, 'stderr').red(
            `cannot write captures file ${path.relative(io.cwd, error.file) || error.file}: ${describeFsError(error.reason)}; nothing ` +
              `is forwarded until it can (local requests get 503 with Retry-After, relay events wait at the relay)`,
          ),
        );
      },
      onResume() {
        logLine(
          io,
          colors(io, 'stderr').green(
            `captures file ${path.relative(io.cwd, capturesFile ?? '') || capturesFile}: writable again; forwarding resumes`,
          ),
        );
      },
    },
  });
  let link: RelayLink | undefined;
  if (relayInput !== undefined) {
    try {
      const { parseRelayUrls, startRelayLink } = await import('../relay-link.js');
      const [relayUrl, ...fallbackUrls] = parseRelayUrls(relayInput);
      link = await startRelayLink({
        relayUrl: relayUrl as URL,
        fallbackUrls,
        channel: await setting('channel', options.channel),
        token: await setting('token', options.token),
        concurrency: options.concurrency,
        ...(options.retryScale !== undefined ? { retryScale: options.retryScale } : {}),
        ...(timeoutMs !== undefined ? { answerBudgetMs: timeoutMs } : {}),
        handler: (request) => listener.intake.handle(request),
        io,
      });
    } catch (error) {
      await listener.close();
      throw error;
    }
  }
  const stopSignals = watchStopSignals(io.stderr);
  // The generated local secret is shown (the app needs it); one the user gave never is.
  const localSecret = secret.source === 'local' ? secret.secret : undefined;
  if (options.json) {
    printLine(
      io,
      JSON.stringify({
        type: 'ready',
        url: listener.url,
        ...(link ? { publicUrl: link.publicUrl, channel: link.channel } : {}),
        inspectorUrl: listener.inspectorUrl,
        forward: forward?.href ?? null,
        captures: capturesFile ?? null,
        ...(localSecret ? { signingSecret: localSecret } : {}),
      }),
    );
  } else {
    const c = colors(io, 'stderr');
    logLine(io, `${c.green('Ready.')} Webhook URL: ${c.bold(listener.url)}`);
    if (link)
      logLine(
        io,
        `Public URL:    ${c.bold(printableSnippet(link.publicUrl))}  (via the ` +
          `relay${link.created ? '; new channel, remembered in .fe-webhooks/relay.json' : ''}: paste it into the FrontEngine portal)`,
      );
    logLine(io, `Inspector:     ${listener.inspectorUrl}`);
    logLine(
      io,
      forward
        ? `Forwarding to: ${forward.href}`
        : `No --forward: answering ${options.respond ?? 200}${options.delay ? ` after ${options.delay} ms` : ''}`,
    );
    logLine(
      io,
      `Captures:      ${capturesFile ? path.relative(io.cwd, capturesFile) || capturesFile : 'not saved (--no-save)'}` +
        `${options.maxBody ? `, bodies up to ${formatBytes(options.maxBody)}` : ''}`,
    );
    if (localSecret)
      logLine(io, `Your webhook signing secret is ${c.bold(localSecret)} (local development secret, in .fe-webhooks/secret)`);
    logLine(io, c.dim('Ctrl-C to stop.'));
  }
  // A relay that refuses the channel later (it was deleted) ends listen with exit 2.
  const refused = link?.done.then(() => new Promise<never>(() => undefined));
  try {
    await (refused ? Promise.race([stopSignals.received, refused]) : stopSignals.received);
  } catch (error) {
    stopSignals.dispose();
    await listener.close();
    printer.flush();
    throw error;
  }
  if (!options.json) logLine(io, 'Stopping: finishing in-flight requests…');
  await link?.close();
  await listener.close();
  printer.flush();
  if (!options.json)
    logLine(
      io,
      `Stopped after ${count} request${count === 1 ? '' : 's'}` +
        `${capturesFile ? `, captured in ${path.relative(io.cwd, capturesFile) || capturesFile}` : ''}.`,
    );
  throw new InterruptedError('');
}

export function register(command: Command, io: CliIO): void {
  command
    .option('-p, --port <port>', `port to listen on, 0 = any free port (default ${DEFAULT_LISTEN_PORT}, config "port")`, portArg)
    .option('--host <host>', `address to bind (default ${DEFAULT_LISTEN_HOST}, config "host")`)
    .option('-f, --forward <target>', 'forward every request to your app, e.g. localhost:3000/webhooks (config "forward")')
    .option('--secret <secret>', 'secret to check signatures with (default: FE_WEBHOOKS_SECRET, config, local dev secret)')
    .option('--save <file>', `append captures to this file (default ${DEFAULT_CAPTURES_FILE})`)
    .option('--no-save', 'do not write captures')
    .option('--respond <status>', 'without --forward: answer with this status (default 200)', statusArg)
    .option('--delay <duration>', 'without --forward: wait this long before answering, e.g. 6s', durationArg('--delay'))
    .option('--max-body <size>', 'refuse bodies over this size with 413 (default 25MiB)', sizeArg('--max-body'))
    .option(
      '--timeout <duration>',
      "give up on the app after this long and answer 504 (default 5s, FrontEngine's limit)",
      durationArg('--timeout'),
    )
    .option(
      '--relay <url>',
      'also receive through this relay (fe-webhooks relay; URL1,URL2,… for instances sharing one Redis, tried in turn): prints a public ' +
        'URL that stays the same across restarts (config "relay")',
    )
    .option('--channel <id>', 'with --relay: use this channel instead of the remembered or a new one (with --token)')
    .option('--token <token>', "with --relay: the channel's token")
    .option(
      '--concurrency <n>',
      'with --relay: events delivered to the app at once (default 1: strictly in order)',
      positiveIntArg('--concurrency'),
    )
    .option(
      '--retry-scale <factor>',
      "with --relay: multiply FrontEngine's retry waits for stored events (0.001 makes 1 min 60 ms)",
      positiveNumberArg('--retry-scale'),
    )
    .option(
      '--allow-host <name>',
      'serve requests whose Host is this name too: any other than an IP address or localhost gets 403 (repeatable; .example.test: with ' +
        'subdomains; config "allowHosts")',
      collect,
    )
    .option('--inspector-port <port>', 'port of the inspector page (default: the next port, else any free one)', portArg)
    .option('--json', 'one JSON object per line: a "ready" line, then one per request', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks listen --forward localhost:3000/webhooks\n' +
        '  $ fe-webhooks listen --relay https://relay.example.com --forward localhost:3000/webhooks\n' +
        '  $ fe-webhooks listen --respond 500 --delay 6s     # drill your sender\'s retries\n' +
        '  $ fe-webhooks listen --port 0 --json --no-save     # for scripts: first line is {"type":"ready",...}',
    )
    .action((options: ListenCliOptions) => listenCommand(options, io));
}
