import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Node hands every request with `Connection: Upgrade` to the server's 'upgrade' event,
 * body unread, even when the Upgrade is not one the relay speaks: `curl --http2` over
 * http:// sends `Upgrade: h2c` with its POST. Such a request is an ordinary one that
 * offers an upgrade the server may ignore (RFC 9110 §7.8), so it is fed back to the
 * HTTP server as a plain request: its head again, without the `upgrade` token, then
 * the bytes already read. It is then stored and answered like any POST.
 */
export function serveAsPlainRequest(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    if (name.toLowerCase() === 'connection') {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && token.toLowerCase() !== 'upgrade')
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // Node's header strings are the received bytes read as latin1: written back the same way.
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  // The socket was taken out of the HTTP server for the upgrade; this hands it back
  // (an https server serves its sockets from 'secureConnection').
  server.emit(secure ? 'secureConnection' : 'connection', socket);
}
