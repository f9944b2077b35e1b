import { SIGNATURE_HEADER, sign, signer } from '../signing/index.js';
import { UserError } from '../errors.js';

/** Header names as the HTTP spec allows them (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * Headers a sender does not choose: the client frames the body itself (Content-Length,
 * Transfer-Encoding) and owns the connection. undici refuses them with its own words.
 */
const SENDER_FRAMED_HEADERS: Record<string, string> = {
  'content-length': 'fe-webhooks sets Content-Length from the body',
  'transfer-encoding': 'fe-webhooks sends the body whole, with a Content-Length',
  connection: 'the connection is managed by fe-webhooks',
  'keep-alive': 'the connection is managed by fe-webhooks',
  upgrade: 'a webhook is a plain POST, not a protocol upgrade',
  expect: 'fe-webhooks sends the body at once, without waiting for 100 Continue',
};

/** `"K: V"` → `[K, V]`; a UserError naming the header when it is malformed or not ours to set. */
export function parseHeaderLine(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon).trim() : '';
  if (!HEADER_NAME.test(name)) throw new UserError(`Invalid --header "${line}": expected "Name: value"`);
  const value = line.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new UserError(`Invalid --header "${line}": the value must be on one line`);
  const framed = SENDER_FRAMED_HEADERS[name.toLowerCase()];
  if (framed) throw new UserError(`Invalid --header "${line}": ${framed}`);
  return [name, value];
}

/** Request headers; a name given several times (`--header "X-A: 1" --header "X-A: 2"`) holds each value. */
export type OutgoingHeaders = Record<string, string | string[]>;

export interface SignedRequestOptions {
  /** `fe-webhooks/<version>`. */
  userAgent: string;
  /** Omit to send no signature header at all (the missing-header drill). */
  secret?: string;
  /** The user's `--header`s: they win over the defaults, so a test can set its own Content-Type. */
  extraHeaders?: HeaderList;
}

/**
 * The headers FrontEngine sends with `body`: Content-Type, User-Agent and
 * X-Webhook-Signature over these exact bytes, then the user's own.
 */
export function signedHeaders(body: Buffer | string, options: SignedRequestOptions & { extraHeaders?: undefined }): Record<string, string>;
export function signedHeaders(body: Buffer | string, options: SignedRequestOptions): OutgoingHeaders;
export function signedHeaders(body: Buffer | string, options: SignedRequestOptions): OutgoingHeaders {
  const headers: OutgoingHeaders = {
    'Content-Type': 'application/json',
    'User-Agent': options.userAgent,
  };
  if (options.secret !== undefined) headers[SIGNATURE_HEADER] = sign(body, options.secret);
  const given = new Map<string, string>();
  for (const [name, value] of options.extraHeaders ?? []) {
    const key = name.toLowerCase();
    const first = given.get(key);
    if (first !== undefined) {
      // Given again: sent again, as a second field line (curl -H does the same).
      const existing = headers[first] as string | string[];
      headers[first] = [...(Array.isArray(existing) ? existing : [existing]), value];
      continue;
    }
    // Case-insensitively replace a default rather than send the header twice.
    for (const defaultName of Object.keys(headers)) if (defaultName.toLowerCase() === key) delete headers[defaultName];
    headers[name] = value;
    given.set(key, name);
  }
  return headers;
}

/** Each header field as one `[name, value]` pair, a repeated name once per value. */
export function headerFields(headers: OutgoingHeaders): Array<[string, string]> {
  return Object.entries(headers).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v): [string, string] => [name, v]),
  );
}

/**
 * `signedHeaders` for many bodies with the same options (load mode), as undici's flat
 * `[name, value, …]` list: everything but the signature is built once. A user's own
 * signature header (--header) wins, as in `signedHeaders`.
 */
export function signedHeaderLists(options: SignedRequestOptions): (body: Buffer | string) => string[] {
  const fixed = headerFields(signedHeaders('', { ...options, secret: undefined })).flat();
  const userSigned = fixed.some((name, i) => i % 2 === 0 && name.toLowerCase() === SIGNATURE_HEADER.toLowerCase());
  if (options.secret === undefined || userSigned) return () => fixed;
  const signBody = signer(options.secret);
  return (body) => [...fixed, SIGNATURE_HEADER, signBody(body)];
}
