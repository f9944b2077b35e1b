import { decodeBody, type CaptureRecord } from '../capture/record.js';
import { curlCommand } from '../util/curl-command.js';

/** Headers curl makes itself from the URL and the body, or that belong to one connection. */
const SKIP_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'expect']);

/**
 * "Copy as curl" for a captured request: built here, from the whole record, rather than in
 * the page, which only holds a bounded preview of a large body and cannot put a NUL byte
 * in a shell command. The command replays the exact bytes (see util/curl-command.ts).
 */
export function captureAsCurl(record: CaptureRecord, webhookUrl: string): string {
  const headers: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(record.headers)) {
    if (SKIP_HEADERS.has(name)) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.push([name, one]);
  }
  return curlCommand({ method: record.method, url: webhookUrl.replace(/\/$/, '') + record.path, headers, body: decodeBody(record) });
}
