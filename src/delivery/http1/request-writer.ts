/** A load-mode request: the exact body bytes and its headers (an object or a flat `[name, value, …]` list). */
export interface Http1Request {
  body: Buffer | string;
  headers: Record<string, string> | readonly string[];
}

/** What goes on the wire for one request: one string (one write) or head and body (one corked write). */
export type RequestBytes = string | readonly [head: string, body: Buffer];

/**
 * Serialises POST requests to one URL as HTTP/1.1 bytes. The request line and Host are
 * built once; per request only the headers and Content-Length are joined. The body is
 * written as given, so the signature the caller computed covers exactly the bytes sent.
 */
export class RequestWriter {
  private readonly prefix: string;
  private readonly host: string;

  constructor(url: URL) {
    this.prefix = `POST ${url.pathname}${url.search} HTTP/1.1\r\n`;
    this.host = `Host: ${url.host}\r\n`;
  }

  serialize(request: Http1Request): RequestBytes {
    const { body, headers } = request;
    let head = this.prefix;
    let ownHost = true;
    const add = (name: string, value: string): void => {
      // The user's Host wins (as with undici); Content-Length is always computed here.
      if (name.length === 4 && name.toLowerCase() === 'host') ownHost = false;
      else if (name.length === 14 && name.toLowerCase() === 'content-length') return;
      head += `${name}: ${value}\r\n`;
    };
    if (Array.isArray(headers)) {
      const list = headers as readonly string[];
      for (let i = 0; i + 1 < list.length; i += 2) add(list[i] as string, list[i + 1] as string);
    } else {
      for (const name of Object.keys(headers)) add(name, (headers as Record<string, string>)[name] as string);
    }
    if (ownHost) head += this.host;
    if (typeof body === 'string') return `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    return [`${head}Content-Length: ${body.length}\r\n\r\n`, body];
  }
}
