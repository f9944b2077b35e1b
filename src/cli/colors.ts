import type { ChalkInstance } from 'chalk';
import { colorLevel, type CliIO } from './io.js';

/**
 * Colour without paying for it when there is none: chalk is imported only when some
 * stream can show colour (`preloadColors`, called once at start-up); otherwise every
 * style is the identity, which is what chalk at level 0 would do anyway.
 */
let chalkModule: typeof import('chalk') | undefined;

const plain: ChalkInstance = new Proxy(
  Object.assign((...text: unknown[]) => text.join(' '), { level: 0 }),
  { get: (target, key) => (key === 'level' ? 0 : key in target ? Reflect.get(target, key) : plain) },
) as unknown as ChalkInstance;

/** Loads chalk when stdout or stderr will show colour. */
export async function preloadColors(io: CliIO): Promise<void> {
  if (!chalkModule && (colorLevel(io, 'stdout') > 0 || colorLevel(io, 'stderr') > 0)) chalkModule = await import('chalk');
}

/** A chalk that colours only when the stream is a terminal and the user allows colour. */
export function colors(io: CliIO, stream: 'stdout' | 'stderr' = 'stdout'): ChalkInstance {
  const level = colorLevel(io, stream);
  if (level === 0 || !chalkModule) return plain;
  return new chalkModule.Chalk({ level });
}
