/**
 * The debug channel: `NODE_DEBUG=fe-webhooks` (Node's util.debuglog, as undici does) or
 * the global `--debug` flag. Every error the tool deliberately swallows (a cleanup that
 * failed, a state write retried later, a sweep that will run again) says here what was
 * skipped and why, so "it just didn't happen" can be looked into without a debugger.
 *
 * Cheap when off: callers on hot paths check `debugEnabled()` (two boolean reads) before
 * building a message, and `skipped()` hands out one shared no-op handler.
 */
import { debuglog, format } from 'node:util';

const SECTION = 'fe-webhooks';

// debuglog reads NODE_DEBUG once, when the process starts: --debug cannot turn it on
// later, so the flag has its own switch and writes lines of the same shape.
const nodeDebug = debuglog(SECTION);
let forced = false;

/** `--debug`: print debug lines on stderr as NODE_DEBUG=fe-webhooks would. */
export function enableDebug(): void {
  forced = true;
}

export function debugEnabled(): boolean {
  return forced || nodeDebug.enabled;
}

/** One debug line (printf-style, as util.format): `FE-WEBHOOKS <pid>: …` on stderr. */
export function debug(message: string, ...args: unknown[]): void {
  if (nodeDebug.enabled) nodeDebug(message, ...args);
  else if (forced) process.stderr.write(`${SECTION.toUpperCase()} ${process.pid}: ${format(message, ...args)}\n`);
}

/**
 * V8's JSON.parse messages quote the text they choked on (`Unexpected token 'x', "…" is not
 * valid JSON`), and that text may be a saved token or a webhook body: it is left out.
 */
const JSON_EXCERPT = /, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/;

/** Why an error happened, in one line: its code and message, never a stack or quoted input. */
function why(error: unknown): string {
  let text = String(error);
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    text = code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return text.replace(JSON_EXCERPT, ': not valid JSON').replace(/\s*[\r\n]+\s*/g, ' ');
}

/** Inside a `catch`: say what was skipped and why (nothing when debugging is off). */
export function debugSkipped(what: string, error: unknown): void {
  if (debugEnabled()) debug('skipped %s: %s', what, why(error));
}

const SILENT = (): undefined => undefined;

/**
 * For `.catch(skipped('…'))`: the error is swallowed, as before, with a debug line saying
 * what was skipped and why. `fallback` is what the promise resolves to instead.
 */
export function skipped(what: string): (error: unknown) => undefined;
export function skipped<T>(what: string, fallback: T): (error: unknown) => T;
export function skipped<T>(what: string, fallback?: T): (error: unknown) => T | undefined {
  if (!debugEnabled()) return fallback === undefined ? SILENT : () => fallback;
  return (error) => {
    debug('skipped %s: %s', what, why(error));
    return fallback;
  };
}
