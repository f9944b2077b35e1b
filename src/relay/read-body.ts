import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body, refusing more than `maxBytes`: a declared Content-Length over
 * the limit is refused before a byte is read; a chunked body that passes the limit is
 * drained and discarded (so the sender can still read the 413; the server's request
 * timeout bounds how long). Memory never holds more than the limit.
 */
export function readBodyWithin(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve('too-large');
  // Stream events, not `for await`: the async iterator costs several promises per chunk.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once('end', () => {
      ended = true;
      resolve(size > maxBytes ? 'too-large' : Buffer.concat(chunks, size));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('the request was aborted before its body ended'));
    });
  });
}
