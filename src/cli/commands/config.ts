import type { Command } from 'commander';
import { localSecretPath, readLocalSecret } from '../../config/secret.js';
import { resolveSetting, SETTING_KEYS, type SettingKey } from '../../config/settings.js';
import { loadFileConfig } from '../../config/file-config.js';
import { DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, FRONTENGINE_TIMEOUT_MS } from '../../config/defaults.js';
import { maskUrlPasswords, SENSITIVE_SETTINGS } from '../../config/rules.js';
import { localListenUrl } from '../targets.js';
import path from 'node:path';
import { colors } from '../colors.js';
import { printableSnippet } from '../../util/printable.js';
import { printLine, type CliIO } from '../io.js';

export interface EffectiveSetting {
  key: SettingKey;
  value: string | number | null;
  source: 'flag' | 'env' | 'config' | 'default' | 'local' | 'unset';
  origin?: string;
}

const FALLBACKS: Partial<Record<SettingKey, string | number>> = {
  port: DEFAULT_LISTEN_PORT,
  host: DEFAULT_LISTEN_HOST,
  timeout: `${FRONTENGINE_TIMEOUT_MS / 1000}s`,
};

/** Secrets and tokens show their first characters only: enough to tell two apart. */
export function maskSecret(secret: string): string {
  return secret.length <= 8 ? '********' : `${secret.slice(0, 4)}…${'*'.repeat(8)}`;
}

/** Every setting's effective value (masked where sensitive) and where it came from. */
export async function effectiveSettings(io: CliIO): Promise<EffectiveSetting[]> {
  const out: EffectiveSetting[] = [];
  // With no url, send aims where listen listens (its host and port settings).
  const fallbacks = { ...FALLBACKS, url: (await localListenUrl(io))?.href };
  for (const key of SETTING_KEYS) {
    const fallback = fallbacks[key];
    const setting = await resolveSetting(key, { cwd: io.cwd, env: io.env, ...(fallback !== undefined ? { fallback } : {}) });
    if (setting) {
      // A list (allowHosts) shows as the comma-separated text its env variable takes.
      const raw = Array.isArray(setting.value) ? setting.value.join(',') : setting.value;
      const value = SENSITIVE_SETTINGS.has(key) ? maskSecret(String(raw)) : typeof raw === 'string' ? maskUrlPasswords(raw) : raw;
      out.push({ key, value, source: setting.source, ...(setting.origin ? { origin: setting.origin } : {}) });
      continue;
    }
    if (key === 'secret') {
      const file = localSecretPath(io.cwd);
      const local = await readLocalSecret(file);
      if (local) {
        out.push({ key, value: maskSecret(local), source: 'local', origin: path.relative(io.cwd, file) });
        continue;
      }
    }
    out.push({ key, value: null, source: 'unset' });
  }
  return out;
}

export async function configCommand(options: { json: boolean }, io: CliIO): Promise<void> {
  const settings = await effectiveSettings(io);
  const { filepath } = await loadFileConfig(io.cwd);
  if (options.json) {
    printLine(io, JSON.stringify({ configFile: filepath ?? null, settings }));
    return;
  }
  const c = colors(io);
  printLine(io, `config file: ${filepath ?? c.dim('none found')}`);
  const width = Math.max(...settings.map((s) => s.key.length));
  for (const s of settings) {
    const where = s.origin ? `${s.source} ${s.origin}` : s.source;
    // A config file may come with a cloned repository: its values are outside text.
    const value = s.value === null ? c.dim('-') : printableSnippet(String(s.value));
    printLine(io, `  ${s.key.padEnd(width)} ${value}  ${c.dim(`(${where})`)}`);
  }
  if (settings.find((s) => s.key === 'secret')?.source === 'unset') {
    printLine(io, c.dim('  The first command that signs creates a local development secret in .fe-webhooks/secret.'));
  }
}

export function register(command: Command, io: CliIO): void {
  command
    .option('--json', 'print {configFile, settings: [{key, value, source, origin?}]}', false)
    .addHelpText(
      'after',
      '\nSettings come from flags, then FE_WEBHOOKS_<KEY> environment variables, then the config file\n' +
        '(.fe-webhooksrc[.json|.yaml], fe-webhooks.config.{js,mjs,cjs}, or the "fe-webhooks" key of package.json).\n' +
        'Secrets, tokens and passwords in URLs are masked. Every value is checked when it is loaded:\n' +
        'a bad one is an error (exit 2) naming the file or variable, the key and the rule.\n\nExamples:\n  $ fe-webhooks config\n' +
        '  $ FE_WEBHOOKS_URL=https://staging.example.com/hooks fe-webhooks config --json',
    )
    .action((options: { json: boolean }) => configCommand(options, io));
}
