import type { Command } from 'commander';
import { Option } from 'commander';
import { resolveSigningSecret } from '../../config/secret.js';
import type { CaseResult, DrillResult } from '../../check/drill.js';
import { drillJson, drillJunit, summarize } from '../../check/report.js';
import { CheckFailedError } from '../../errors.js';
import { FRONTENGINE_TIMEOUT_MS } from '../../config/defaults.js';
import { assertDeliverableUrl, parseTargetUrl } from '../../util/url.js';
import { printableSnippet } from '../../util/printable.js';
import { colors } from '../colors.js';
import { logLine, printLine, type CliIO } from '../io.js';
import { durationArg } from '../parsers.js';
import { formatLatency } from '../print-delivery.js';
import { packageVersion } from '../version.js';

export interface CheckCliOptions {
  secret?: string;
  timeout?: number;
  only?: string[];
  reporter: 'text' | 'json' | 'junit';
  json?: boolean;
  insecure?: boolean;
}

/** One case of the drill, for the text report. */
export function caseLine(result: CaseResult, io: CliIO): string {
  const chalk = colors(io);
  const status = result.status !== undefined ? String(result.status) : '---';
  const parts = [
    `${result.ok ? chalk.green('✓') : chalk.red('✗')} ${result.name.padEnd(45)}`,
    status,
    formatLatency(result.latencyMs).padStart(8),
  ];
  // The reason may quote the endpoint's error (a TLS or protocol message): escaped.
  if (!result.ok) parts.push(chalk.red(`expected ${result.expected}: ${printableSnippet(result.reason ?? 'failed')}`));
  return parts.join('  ');
}

/** The conformance drill against a live endpoint; exit 0 only when every case passes. */
export async function checkCommand(target: string, options: CheckCliOptions, io: CliIO): Promise<void> {
  const reporter = options.json ? 'json' : options.reporter;
  const url = parseTargetUrl(target, 'URL');
  assertDeliverableUrl(url, options.insecure ?? false);
  const { secret } = await resolveSigningSecret({ flag: options.secret, env: io.env, cwd: io.cwd });
  // Loaded here, not at the top: they bring undici (~110 files), which `check --help`
  // and a usage error need not wait for.
  const [{ runConformanceDrill, selectDrillCases }, { createAgent }] = await Promise.all([
    import('../../check/drill.js'),
    import('../../delivery/dispatcher.js'),
  ]);
  // A mistyped case is a usage error before anything is sent.
  if (options.only) selectDrillCases(options.only);
  const timeoutMs = options.timeout ?? FRONTENGINE_TIMEOUT_MS;
  const dispatcher = createAgent({ insecure: options.insecure ?? false, connectTimeoutMs: timeoutMs });
  if (reporter === 'text') logLine(io, colors(io, 'stderr').dim(`Checking ${url.href}`));
  let drill: DrillResult;
  try {
    drill = await runConformanceDrill({
      url,
      secret,
      userAgent: `fe-webhooks/${packageVersion()}`,
      dispatcher,
      timeoutMs,
      ...(options.only ? { only: options.only } : {}),
      onCase: reporter === 'text' ? (result) => printLine(io, caseLine(result, io)) : undefined,
    });
  } finally {
    await dispatcher.destroy();
  }
  const { results, unreachable } = drill;
  const summary = summarize(url.href, results, unreachable);
  if (reporter === 'json') io.stdout.write(drillJson(summary, results));
  else if (reporter === 'junit') io.stdout.write(drillJunit(summary, results));
  // One line, not one identical failure per case: nothing was checked.
  if (unreachable !== undefined) throw new CheckFailedError(`Cannot reach ${url.href}: ${unreachable}. No case was run`);
  if (reporter === 'text') printLine(io, `${summary.passed} passed, ${summary.failed} failed`);
  const accepts = results.filter((r) => r.name.startsWith('accepts '));
  if (accepts.length > 0 && accepts.every((r) => r.status === 401 || r.status === 403)) {
    logLine(io, colors(io, 'stderr').yellow('hint: every genuine request was refused: does the endpoint use the same secret? (--secret)'));
  }
  if (summary.failed > 0) throw new CheckFailedError('');
}

export function register(command: Command, io: CliIO): void {
  command
    .argument('<url>', 'the endpoint, e.g. https://app.example.com/webhooks or localhost:3000/webhooks')
    .option('--secret <secret>', 'the secret the endpoint verifies with (default: $FE_WEBHOOKS_SECRET, config, local dev secret)')
    .addOption(new Option('--reporter <format>', 'report format').choices(['text', 'json', 'junit']).default('text'))
    .option('--json', 'same as --reporter json')
    .option(
      '--timeout <duration>',
      "how long to wait for each answer (default 5s; a 2xx later than FrontEngine's 5 s still fails)",
      durationArg('--timeout'),
    )
    .option(
      '--only <case...>',
      'run only these cases: accept, forgery, redelivery, unknown-event, an event name, or an id such as forgery:wrong-secret',
    )
    .option('--insecure', 'allow plain http to non-loopback hosts and untrusted certificates')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks check localhost:3000/webhooks --secret "$WEBHOOK_SECRET"\n' +
        '  $ fe-webhooks check localhost:3000/webhooks --only forgery redelivery --timeout 1s\n' +
        '  $ fe-webhooks check https://staging.example.com/hooks --reporter junit > check.xml',
    )
    .action((url: string, options: CheckCliOptions) => checkCommand(url, options, io));
}
