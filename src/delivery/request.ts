import { SIGNATURE_HEADER, sign, signer } from '../signing/index.js';
import { UserError } from '../errors.js';

/** Header names as the HTTP spec allows them (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** `"K: V"` → `[K, V]`; a UserError naming the header when it is malformed. */
export function parseHeaderLine(line: string): [string, string] {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon).trim() : '';
  if (!HEADER_NAME.test(name)) throw new UserError(`Invalid --header "${line}": expected "Name: value"`);
  const value = line.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new UserError(`Invalid --header "${line}": the value must be on one line`);
  return [name, value];
}

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
 * X-Webhook-Signature over these exact bytes.
 */
export function signedHeaders(body: Buffer | string, options: SignedRequestOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': options.userAgent,
  };
  if (options.secret !== undefined) headers[SIGNATURE_HEADER] = sign(body, options.secret);
  for (const [name, value] of options.extraHeaders ?? []) {
    // Case-insensitively replace a default rather than send the header twice.
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    headers[name] = value;
  }
  return headers;
}

/**
 * `signedHeaders` for many bodies with the same options (load mode), as undici's flat
 * `[name, value, …]` list: everything but the signature is built once. A user's own
 * signature header (--header) wins, as in `signedHeaders`.
 */
export function signedHeaderLists(options: SignedRequestOptions): (body: Buffer | string) => string[] {
  const fixed = Object.entries(signedHeaders('', { ...options, secret: undefined })).flat();
  const userSigned = fixed.some((name, i) => i % 2 === 0 && name.toLowerCase() === SIGNATURE_HEADER.toLowerCase());
  if (options.secret === undefined || userSigned) return () => fixed;
  const signBody = signer(options.secret);
  return (body) => [...fixed, SIGNATURE_HEADER, signBody(body)];
}
