import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/**
 * The programs some tests run besides Node, and the one apt line that installs them all
 * (README "Development", CONTRIBUTING.md and .ci/run name the same list).
 */
export const SYSTEM_PROGRAMS = {
  chromium: 'the inspector page and HAR exports, in a real headless browser',
  'redis-server': "the relay's Redis store",
  python3: "the provider page's own signature check, and JUnit XML parsing",
  zsh: 'shell completion, loaded in a real zsh',
  fish: 'shell completion, loaded in a real fish',
} as const;

export type SystemProgram = keyof typeof SYSTEM_PROGRAMS;

export const APT_LINE = `apt-get install -y ${Object.keys(SYSTEM_PROGRAMS).join(' ')}`;

const found = new Map<string, string | undefined>();

/** Where `program` is on PATH, or undefined. */
export function findProgram(program: string): string | undefined {
  const key = `${process.env.PATH ?? ''}\0${program}`;
  if (!found.has(key)) {
    const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
    found.set(
      key,
      dirs.map((dir) => path.join(dir, program)).find((file) => {
        try {
          accessSync(file, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      }),
    );
  }
  return found.get(key);
}

const told = new Set<string>();

/**
 * Options for `test()`: the test is skipped, with one line saying what to install, when a
 * program it needs is missing. Under CI (`CI` set) nothing is skipped, so a missing
 * program fails the test: CI must prove everything.
 */
export function needs(...programs: SystemProgram[]): { skip?: string } {
  const missing = programs.filter((program) => findProgram(program) === undefined);
  if (missing.length === 0 || process.env.CI) return {};
  const reason = `needs ${missing.join(' and ')}, not installed (${APT_LINE})`;
  // Once per test file, on stderr too: the spec reporter's SKIP lines are easy to miss.
  if (!told.has(reason)) {
    told.add(reason);
    process.stderr.write(`skipping the tests that need ${missing.join(' and ')}: ${APT_LINE}\n`);
  }
  return { skip: reason };
}

/** The program's path, or an error that says how to install it (under CI a missing program fails here). */
export function programPath(program: SystemProgram): string {
  const file = findProgram(program);
  if (file === undefined) throw new Error(`${program} is not installed (the tests of ${SYSTEM_PROGRAMS[program]} run it): ${APT_LINE}`);
  return file;
}
