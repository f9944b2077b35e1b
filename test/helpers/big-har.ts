import { closeSync, openSync, writeSync } from 'node:fs';
import { harEntry } from '../../src/capture/har.js';
import { sign } from '../../src/signing/index.js';
import { captureRecord, sampleBody } from './verify-captures.js';

const MARK = '~~mark~~';
const ID = `${MARK}id${MARK}`;
const SIGNATURE = `${MARK}sig${MARK}`;
const LENGTH = `${MARK}len${MARK}`;
const BODY = `${MARK}body${MARK}`;
const FLUSH_CHARS = 4 * 1024 * 1024;

/**
 * Writes a HAR of at least `bytes` with the entries fe-webhooks' own export makes
 * (harEntry), but all on ONE line (no newline anywhere: the worst case for a reader that
 * splits lines), streamed out in pieces so the test itself stays small. Every entry is a
 * distinct, validly signed MessageSent (its message_id numbered), so repeat detection
 * keeps one record per request, as on a real export. Returns the number of entries.
 */
export function writeBigHar(file: string, bytes: number, secret: string): number {
  const template = JSON.parse(sampleBody('MessageSent', 1)) as { payload: { message: { message_id: string } } };
  // One entry, made once by the real export code, with marks where each entry differs.
  const base = captureRecord({ secret, body: BODY, extra: { id: ID, event: 'MessageSent' } });
  base.headers['x-webhook-signature'] = SIGNATURE;
  base.headers['content-length'] = LENGTH;
  const pieces = JSON.stringify(harEntry(base)).split(MARK);
  const fd = openSync(file, 'w');
  try {
    let written = 0;
    let pending = '';
    const flush = (): void => {
      written += writeSync(fd, pending);
      pending = '';
    };
    // A big value before log.entries, which the reader must pass over without keeping.
    pending += `{"log":{"version":"1.2","creator":{"name":"big-har","version":"1"},"comment":"${'x'.repeat(2 * 1024 * 1024)}","pages":[],"entries":[`;
    let count = 0;
    while (written + pending.length < bytes) {
      template.payload.message.message_id = `big-${count}@example.com`;
      const body = JSON.stringify(template);
      const values: Record<string, string> = { id: `req_big${count.toString(36)}`, sig: sign(body, secret), len: String(Buffer.byteLength(body)), body: JSON.stringify(body).slice(1, -1) };
      pending += count === 0 ? '' : ',';
      for (let i = 0; i < pieces.length; i++) pending += i % 2 === 1 ? (values[pieces[i] as string] as string) : (pieces[i] as string);
      if (pending.length >= FLUSH_CHARS) flush();
      count++;
    }
    pending += ']}}';
    flush();
    return count;
  } finally {
    closeSync(fd);
  }
}
