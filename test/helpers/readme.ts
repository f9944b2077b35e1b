import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { verify } from '../../src/signing/index.js';
import path from 'node:path';
import { REPO_ROOT, cleanEnv } from './cli.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * The README's examples as data, and what it takes to run them: `console` blocks are
 * executed (`$ ` lines are commands, the lines under them their output), `sh` blocks
 * are not. The conventions (documented in the README's Development section):
 * - `# exits N` at the end of a command: it must exit N (default 0);
 * - `<!-- needs: app -->` before a block: a receiving app runs on "localhost:3000";
 * - a line `…` or `...` in the output stands for any number of lines;
 * - `fe-webhooks listen` / `fe-webhooks relay` are services: started (on port 0), their
 *   start-up output compared, then left running for the blocks that follow.
 */

export const README = path.join(REPO_ROOT, 'README.md');

export interface ReadmeCommand {
  line: string;
  expected: string[];
  exitCode: number;
  /** 1-based line in the README, for messages. */
  at: number;
}

export interface ReadmeBlock {
  needs: string[];
  commands: ReadmeCommand[];
}

/** Nominal ports the README shows, which the test maps to the real ones. */
export const NOMINAL = { app: 3000, listen: 7878, inspector: 7879, relay: 8787 } as const;

const WILDCARD = /^(…|\.\.\.)$/;
const TIMESTAMPED = /^\d\d:\d\d:\d\d\s/;

export function readReadme(): string {
  return readFileSync(README, 'utf8');
}

/** The bodies of the fenced blocks with this info string. */
export function fencedBlocks(markdown: string, info: string): Array<{ body: string[]; at: number; before: string }> {
  const lines = markdown.split('\n');
  const blocks: Array<{ body: string[]; at: number; before: string }> = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```' + info) continue;
    const before = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== '```') end++;
    blocks.push({ body: lines.slice(start, end), at: start + 1, before });
    i = end;
  }
  return blocks;
}

export function extractConsoleBlocks(markdown: string): ReadmeBlock[] {
  return fencedBlocks(markdown, 'console').map(({ body, at, before }) => {
    const needs = /<!--\s*needs:\s*([^>]*?)\s*-->/.exec(before)?.[1]?.split(/[\s,]+/) ?? [];
    const commands: ReadmeCommand[] = [];
    body.forEach((text, index) => {
      if (text.startsWith('$ ')) {
        const exits = /\s#\s*exits (\d+)\s*$/.exec(text);
        commands.push({ line: text.slice(2), expected: [], exitCode: exits ? Number(exits[1]) : 0, at: at + index });
      } else {
        const current = commands.at(-1);
        if (!current) throw new Error(`README.md:${at + index}: output before any "$ " command`);
        current.expected.push(text);
      }
    });
    return { needs, commands };
  });
}

/** The `fe-webhooks ...` command lines of the ```yaml blocks, cut at shell operators. */
export function yamlCommandLines(markdown: string): string[] {
  return fencedBlocks(markdown, 'yaml')
    .flatMap((block) => block.body)
    .flatMap((line) => {
      const match = /fe-webhooks\s[^>&|;]*/.exec(line);
      return match ? [match[0].trim()] : [];
    });
}

export function isService(line: string): boolean {
  return /^fe-webhooks (listen|relay)\b/.test(line) && !line.includes('--help');
}

/** Makes real output and README output comparable: ports, times, ids, secrets, paths, latencies. */
export function normalise(text: string, ports: ReadonlyMap<number, number>, cwd?: string): string[] {
  let out = text.replace(/\x1b\[[0-9;]*m/g, '');
  if (cwd) {
    for (const dir of new Set([cwd, realpathSync(cwd)])) out = out.split(dir).join('/home/me/app');
  }
  out = out
    .replace(/(localhost|127\.0\.0\.1):(\d+)/g, (all, host: string, port: string) => `${host}:${ports.get(Number(port)) ?? port}`)
    .replace(/\b\d\d:\d\d:\d\d\b/g, 'HH:MM:SS')
    .replace(/req_[0-9a-z]+…?/g, 'req_ID')
    .replace(/fe_dev_[A-Za-z0-9_-]+…?/g, 'fe_dev_SECRET')
    .replace(/\/c\/[A-Za-z0-9_-]{8,}/g, '/c/CHANNEL')
    .replace(/\d+(\.\d+)? req\/s\b/g, 'N req/s')
    // A duration may print as 950 ms one run and 1.02 s the next.
    .replace(/\d+(\.\d+)? (ms|s)\b/g, 'DURATION');
  const lines = out.split('\n').map((l) => l.replace(/[ \t]+/g, ' ').trimEnd());
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

/** Whether the expected lines (with wildcards) match all of `actual`, or only a prefix of it. */
export function linesMatch(expected: string[], actual: string[], prefixOnly = false): boolean {
  const go = (e: number, a: number): boolean => {
    if (e === expected.length) return prefixOnly || a === actual.length;
    if (WILDCARD.test(expected[e] as string)) {
      for (let skip = a; skip <= actual.length; skip++) if (go(e + 1, skip)) return true;
      return false;
    }
    return a < actual.length && expected[e] === actual[a] && go(e + 1, a + 1);
  };
  return go(0, 0);
}

export interface Service {
  line: string;
  child: ChildProcess;
  output(): string;
  /** Expected lines shown after start-up (timestamped request lines), checked at the end. */
  later: string[];
}

export interface WorldOptions {
  cwd: string;
  /** A folder holding an `fe-webhooks` executable, put first on PATH. */
  binDir: string;
  /** Actual app port, shown as localhost:3000. */
  appPort?: number;
}

const SERVICE_READY_MS = 15_000;
const COMMAND_TIMEOUT_MS = 60_000;

/** Runs README commands in one folder, in order, as a user would type them. */
export class ReadmeWorld {
  /** actual port → the port the README shows */
  readonly ports = new Map<number, number>();
  readonly services: Service[] = [];
  private listenUrl: string | undefined;

  constructor(private readonly options: WorldOptions) {
    if (options.appPort !== undefined) this.ports.set(options.appPort, NOMINAL.app);
  }

  /** The README line with its nominal ports replaced by the real ones. */
  substitute(line: string): string {
    const actual = new Map([...this.ports].map(([a, n]) => [n, a]));
    return line.replace(/(localhost|127\.0\.0\.1):(\d+)/g, (all, host: string, port: string) => `${host}:${actual.get(Number(port)) ?? port}`);
  }

  private env(line: string): NodeJS.ProcessEnv {
    const env = cleanEnv({ PATH: `${this.options.binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}` });
    // The examples show defaults: no setting of the developer's may leak in.
    for (const key of Object.keys(env)) if (key.startsWith('FE_WEBHOOKS_')) delete env[key];
    // Commands that default to the local listen are pointed at the one running on port 0.
    if (this.listenUrl && /^fe-webhooks (send|replay)\b/.test(line) && !/--(url|to)\b/.test(line)) env.FE_WEBHOOKS_URL = this.listenUrl;
    return env;
  }

  normalise(text: string): string[] {
    return normalise(text, this.ports, this.options.cwd);
  }

  /** Runs one command to completion: its code and normalised stdout then stderr. */
  run(line: string): Promise<{ code: number | null; lines: string[]; raw: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', this.substitute(line)], { cwd: this.options.cwd, env: this.env(line), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const raw = stdout + stderr;
        resolve({ code, raw, lines: this.normalise(raw) });
      });
    });
  }

  /**
   * Starts a service on port 0 and waits until its output matches the start-up lines the
   * README shows (those before the first timestamped request line).
   */
  async start(command: ReadmeCommand): Promise<Service> {
    const split = command.expected.findIndex((l) => TIMESTAMPED.test(l));
    const startup = split < 0 ? command.expected : command.expected.slice(0, split);
    const later = split < 0 ? [] : command.expected.slice(split);
    const wanted = startup.flatMap((l) => this.normalise(l));
    const withPort = /(\s--port|\s-p)\s/.test(command.line) ? command.line : `${command.line} --port 0`;
    const child = spawn('sh', ['-c', `exec ${this.substitute(withPort)}`], { cwd: this.options.cwd, env: this.env(command.line), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const service: Service = { line: command.line, child, output: () => output, later };
    this.services.push(service);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail('not ready'), SERVICE_READY_MS);
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`README.md:${command.at}: ${command.line}: ${why}\nexpected:\n${startup.join('\n')}\nactual:\n${this.normalise(output).join('\n')}`));
      };
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        this.learnPorts(output);
        if (linesMatch(wanted, this.normalise(output), true)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => fail(`exited with ${code}`));
    });
    return service;
  }

  private learnPorts(raw: string): void {
    const learn = (pattern: RegExp, nominal: number): void => {
      const port = pattern.exec(raw)?.[1];
      if (port) this.ports.set(Number(port), nominal);
    };
    const listen = /(?:Webhook URL: +|"url":")(http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(raw);
    if (listen?.[2]) {
      this.ports.set(Number(listen[2]), NOMINAL.listen);
      this.listenUrl = listen[1];
    }
    learn(/(?:Inspector: +|"inspectorUrl":")http:\/\/127\.0\.0\.1:(\d+)/, NOMINAL.inspector);
    learn(/Relay ready at https?:\/\/[^:\s]+:(\d+)/, NOMINAL.relay);
  }

  /** Stops every service (SIGINT, then SIGKILL) and waits for them. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.services.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGINT');
          }),
      ),
    );
  }
}

/** Runs one README command (or starts it, for a service) and says what differs, if anything. */
export async function runReadmeCommand(world: ReadmeWorld, command: ReadmeCommand): Promise<string | undefined> {
  const where = `README.md:${command.at}: $ ${command.line}`;
  if (isService(command.line)) {
    await world.start(command);
    return undefined;
  }
  const result = await world.run(command.line);
  if (result.code !== command.exitCode) return `${where}\nexited ${result.code}, expected ${command.exitCode}\n${result.raw}`;
  if (command.expected.length > 0 && !linesMatch(command.expected.flatMap((l) => world.normalise(l)), result.lines)) {
    return `${where}\nexpected:\n${command.expected.join('\n')}\nactual (normalised):\n${result.lines.join('\n')}`;
  }
  return undefined;
}

/**
 * The app the README talks to on localhost:3000: it checks each signature with the local
 * dev secret of the folder the examples run in (created by the first command that signs).
 */
export async function startReadmeApp(t: TestContext, cwd: string): Promise<Receiver> {
  return startReceiver(t, {
    respond: (request, _index, res) => {
      const secretFile = path.join(cwd, '.fe-webhooks/secret');
      const secret = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : '';
      const valid = secret !== '' && verify(request.body, request.headers['x-webhook-signature'], secret);
      res.writeHead(valid ? 200 : 401, { 'content-type': 'text/plain' }).end(valid ? 'ok' : 'invalid signature');
    },
  });
}
