import type { Command } from 'commander';
import { Option } from 'commander';
import { resolveSigningSecret } from '../../config/secret.js';
import type { CaseResult } from '../../check/drill.js';
import { drillJson, drillJunit, summarize } from '../../check/report.js';
import { CheckFailedError } from '../../errors.js';
import { FRONTENGINE_TIMEOUT_MS } from '../../config/defaults.js';
import { assertDeliverableUrl, parseTargetUrl } from '../../util/url.js';
import { printableSnippet } from '../../util/printable.js';
import { colors } from '../colors.js';
import { logLine, printLine, type CliIO } from '../io.js';
import { formatLatency } from '../print-delivery.js';
import { packageVersion } from '../version.js';

export interface CheckCliOptions {
  secret?: string;
  reporter: 'text' | 'json' | 'junit';
  json?: boolean;
  insecure?: boolean;
}

/** One case of the drill, for the text report. */
export function caseLine(result: CaseResult, io: CliIO): string {
  const chalk = colors(io);
  const status = result.status !== undefined ? String(result.status) : '---';
  const parts = [`${result.ok ? chalk.green('✓') : chalk.red('✗')} ${result.name.padEnd(45)}`, status, formatLatency(result.latencyMs).padStart(8)];
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
  const [{ runConformanceDrill }, { createAgent }] = await Promise.all([import('../../check/drill.js'), import('../../delivery/dispatcher.js')]);
  const dispatcher = createAgent({ insecure: options.insecure ?? false, connectTimeoutMs: FRONTENGINE_TIMEOUT_MS });
  if (reporter === 'text') logLine(io, colors(io, 'stderr').dim(`Checking ${url.href}`));
  let results: CaseResult[];
  try {
    results = await runConformanceDrill({
      url,
      secret,
      userAgent: `fe-webhooks/${packageVersion()}`,
      dispatcher,
      onCase: reporter === 'text' ? (result) => printLine(io, caseLine(result, io)) : undefined,
    });
  } finally {
    await dispatcher.destroy();
  }
  const summary = summarize(url.href, results);
  if (reporter === 'json') io.stdout.write(drillJson(summary, results));
  else if (reporter === 'junit') io.stdout.write(drillJunit(summary, results));
  else printLine(io, `${summary.passed} passed, ${summary.failed} failed`);
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
    .option('--insecure', 'allow plain http to non-loopback hosts and untrusted certificates')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fe-webhooks check localhost:3000/webhooks --secret "$WEBHOOK_SECRET"\n' +
        '  $ fe-webhooks check https://staging.example.com/hooks --reporter junit > check.xml',
    )
    .action((url: string, options: CheckCliOptions) => checkCommand(url, options, io));
}
