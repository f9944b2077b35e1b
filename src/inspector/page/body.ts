import type { WireHeaders } from '../wire.js';

/** The bytes a wire body holds (text as UTF-8, or base64). */
export function bodyBytes(body: { body: string; bodyEncoding: 'utf8' | 'base64' }): Uint8Array {
  if (body.bodyEncoding === 'utf8') return new TextEncoder().encode(body.body);
  const binary = atob(body.body);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Two-space JSON, or null when the text is not JSON. */
export function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/** At most this many bytes are laid out in the hex view. */
const HEX_LIMIT = 64 * 1024;

/** `00000000  7b 22 65 ...  |{"e...|`, 16 bytes a line. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, HEX_LIMIT);
  for (let offset = 0; offset < end; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, end));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes (download the body for all of them)`);
  return lines.join('\n');
}

/** The query string's parameters, decoded, in order (repeats kept). */
export function queryPairs(path: string): Array<[string, string]> {
  const at = path.indexOf('?');
  return at === -1 ? [] : [...new URLSearchParams(path.slice(at + 1)).entries()];
}

export function headerValue(headers: WireHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Form fields when the body is application/x-www-form-urlencoded; null otherwise. */
export function formPairs(headers: WireHeaders, text: string | null): Array<[string, string]> | null {
  const type = headerValue(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded' || text === null) return null;
  return [...new URLSearchParams(text).entries()];
}

export function headerPairs(headers: WireHeaders): Array<[string, string]> {
  return Object.entries(headers).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((one): [string, string] => [name, one]),
  );
}
