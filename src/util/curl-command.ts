/**
 * A one-line POSIX shell command that makes curl send exactly these bytes: used by
 * `send --dry-run` and the inspector's "Copy as curl".
 *
 * Exact however large or binary the body is: a short body of printable ASCII goes inline
 * (`--data-binary '…'`, readable); anything else is written by the shell's own `printf`
 * with octal escapes and piped in (`printf '…' | curl … --data-binary @-`). printf is a
 * builtin in bash, zsh and dash, so a large body never meets the kernel's 128 KiB limit
 * on one exec argument, and a NUL byte (which no argument can hold) is `\000`.
 * The command is pure printable ASCII on one line: nothing in it can drive a terminal
 * when it is shown or pasted, and no line of it starts with the body's text.
 */

/** Bodies above this go through printf even when printable: one exec argument holds at most 128 KiB on Linux. */
const INLINE_BODY_MAX_BYTES = 64 * 1024;
/** Characters a word may hold unquoted. */
const BARE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export interface CurlRequest {
  method: string;
  url: string;
  /** In order; a name may repeat. Values are sent as Node sends them: Latin-1 when they fit, else UTF-8. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** The exact body, or a file curl reads it from (`@file`); absent or empty: no body. */
  body?: Uint8Array | { file: string };
  /** Flags that go right after `curl` (e.g. `-sS`, `-k`). */
  flags?: readonly string[];
}

/**
 * Printable ASCII that can be shown as itself: no `##`, which CI runners read as the start
 * of a command anywhere in a line (`##[error]`, `##vso[…]`; see util/printable.ts).
 */
function isPlainAscii(bytes: Uint8Array): boolean {
  let previous = 0;
  for (const byte of bytes) {
    if (byte < 0x20 || byte > 0x7e || (byte === 0x23 && previous === 0x23)) return false;
    previous = byte;
  }
  return true;
}

/** The bytes a header value or URL goes out as (Node writes strings of code points ≤ U+00FF as Latin-1). */
function wireBytes(text: string): Buffer {
  return /^[\x00-\xff]*$/.test(text) ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8');
}

/**
 * A printf format that prints exactly `bytes`: printable ASCII as itself except `%`, `\`,
 * `'` and `#`; a newline as `\n`; every other byte as a three-digit octal escape (three
 * digits, so a digit that follows is never read as part of it).
 */
export function printfFormat(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x25) out += '%%';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte >= 0x20 && byte <= 0x7e && byte !== 0x27 && byte !== 0x23) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `'${out}'`;
}

/** One shell word for these bytes: bare, single-quoted, or `"$(printf '…')"` when not printable ASCII. */
export function shellWord(value: string | Uint8Array): string {
  const bytes = typeof value === 'string' ? wireBytes(value) : value;
  if (!isPlainAscii(bytes)) return `"$(printf ${printfFormat(bytes)})"`;
  const text = Buffer.from(bytes).toString('latin1');
  return BARE_WORD.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The command line; see the module comment for how the body travels. */
export function curlCommand(request: CurlRequest): string {
  const parts = ['curl', ...(request.flags ?? []), '-X', shellWord(request.method), shellWord(request.url)];
  for (const [name, value] of request.headers) parts.push('-H', shellWord(`${name}: ${value}`));
  const { body } = request;
  if (body === undefined) return parts.join(' ');
  if (!(body instanceof Uint8Array)) {
    parts.push('--data-binary', `@${shellWord(body.file)}`);
    return parts.join(' ');
  }
  if (body.length === 0) return parts.join(' ');
  if (body.length <= INLINE_BODY_MAX_BYTES && isPlainAscii(body)) {
    // --data-binary sends the bytes untouched (plain -d would strip newlines).
    parts.push('--data-binary', shellWord(body));
    return parts.join(' ');
  }
  parts.push('--data-binary', '@-');
  return `printf ${printfFormat(body)} | ${parts.join(' ')}`;
}
