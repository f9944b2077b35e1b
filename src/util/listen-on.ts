import type { AddressInfo, Server } from 'node:net';
import { UserError } from '../errors.js';

// Shared by every server the tool binds (listen's capture server, the inspector, the relay),
// so a taken or forbidden port reads the same everywhere.
function describeListenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new UserError(
      `Port ${port} on ${host} is already in use: stop the other program or pick another with --port (0 = any free port)`,
    );
  }
  if (error.code === 'EACCES') return new UserError(`Not allowed to listen on ${host}:${port}: pick a port above 1023 with --port`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') return new UserError(`Cannot listen on ${host}: no such local address`);
  return error;
}

/** Binds a server (http, https or net), with a clear one-line error when the port is taken. */
export function listenOn(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(describeListenError(error, host, port));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** The http:// URL of a bound address (IPv6 hosts in brackets). */
export function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
