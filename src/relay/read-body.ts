import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body, refusing more than `maxBytes`: a declared Content-Length over
 * the limit is refused before a byte is read; a chunked body that passes the limit is
 * drained and discarded (so the sender can still read the 413; the server's request
 * timeout bounds how long). Memory never holds more than the limit.
 */
export async function readBodyWithin(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
    else chunks.length = 0;
  }
  return size > maxBytes ? 'too-large' : Buffer.concat(chunks, size);
}
