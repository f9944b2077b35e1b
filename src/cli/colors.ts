import { Chalk, type ChalkInstance } from 'chalk';
import { colorLevel, type CliIO } from './io.js';

/** A chalk that colours only when the stream is a terminal and the user allows colour. */
export function colors(io: CliIO, stream: 'stdout' | 'stderr' = 'stdout'): ChalkInstance {
  return new Chalk({ level: colorLevel(io, stream) });
}
