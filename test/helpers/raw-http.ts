import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A TCP server that reads each request (head + Content-Length body) and answers with
 * whatever `answer` writes on the socket: for responses Node's http server never sends.
 */
export async function startRawServer(t: TestContext, answer: (socket: Socket, index: number) => void): Promise<{ url: string; requests: Buffer[]; heads: string[] }> {
  const requests: Buffer[] = [];
  /** Each request's head (request line and headers) exactly as it came, read as latin1. */
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.subarray(0, headEnd).toString('latin1'))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        heads.push(buffered.subarray(0, headEnd).toString('latin1'));
        requests.push(buffered.subarray(headEnd + 4, headEnd + 4 + length));
        buffered = buffered.subarray(headEnd + 4 + length);
        answer(socket, requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/raw`, requests, heads };
}

/** Sends raw bytes (latin1) and reads the answer until the server closes: for requests no client library would send. */
export function rawRequest(url: string, text: string | Buffer, timeoutMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => socket.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('raw request timed out')));
  });
}

