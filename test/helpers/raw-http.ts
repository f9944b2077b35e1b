import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A TCP server that reads each request (head + Content-Length body) and answers with
 * whatever `answer` writes on the socket: for responses Node's http server never sends.
 */
export async function startRawServer(t: TestContext, answer: (socket: Socket, index: number) => void): Promise<{ url: string; requests: Buffer[] }> {
  const requests: Buffer[] = [];
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/raw`, requests };
}

