import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port nothing listens on: bound, read and released. Connecting to it is
 * refused, and a server that cannot bind port 0 itself (redis-server) can take it.
 */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
