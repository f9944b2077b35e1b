import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fencedBlocks } from './readme.js';
import { waitFor } from './poll.js';

/**
 * The README's CI recipe (its ```yaml block with `fe-webhooks listen`) as GitHub Actions
 * steps, and a way to run their shell the way a runner does. js-yaml is the parser
 * cosmiconfig (a dependency) already brings: a strict parse, so a recipe that GitHub
 * would reject fails here too.
 */
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

export interface CiStep {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

export function ciRecipeSteps(markdown: string): CiStep[] {
  const block = fencedBlocks(markdown, 'yaml').find(({ body }) => body.some((line) => line.includes('fe-webhooks listen')));
  if (!block) throw new Error('README.md has no ```yaml CI recipe that starts fe-webhooks listen');
  const steps = yaml.load(block.body.join('\n'));
  if (!Array.isArray(steps)) throw new Error(`README.md:${block.at}: the CI recipe is not a list of steps`);
  return steps as CiStep[];
}

export interface StepResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The step's process group: what it left running in the background is in it. */
  group: number;
}

/**
 * Runs a step's shell as GitHub's runner does (`bash --noprofile --norc -eo pipefail`),
 * in a process group of its own, so whatever it leaves running (listen) can be stopped.
 * `${{ secrets.X }}` in its env becomes `secrets[X]`.
 */
export function runCiStep(step: CiStep, script: string, options: { cwd: string; env: NodeJS.ProcessEnv; secrets: Record<string, string>; timeoutMs: number }): Promise<StepResult> {
  const env: NodeJS.ProcessEnv = { ...options.env };
  for (const [key, value] of Object.entries(step.env ?? {})) {
    env[key] = String(value).replace(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g, (_all, name: string) => options.secrets[name] ?? '');
  }
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd: options.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => stopGroup(child.pid as number, 'SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, group: child.pid as number });
    });
  });
}

/** Signals every process of a step's group (gone already is fine). */
export function stopGroup(group: number, signal: NodeJS.Signals = 'SIGINT'): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Nothing left in it.
  }
}

/** Waits until a step's group has no process left (bounded). */
export async function groupGone(group: number, timeoutMs: number): Promise<boolean> {
  const gone = (): true | undefined => {
    try {
      process.kill(-group, 0);
      return undefined;
    } catch {
      return true;
    }
  };
  return waitFor(`process group ${group} to exit`, gone, timeoutMs).catch(() => false);
}
