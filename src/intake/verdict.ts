import { headerValue, type CapturedHeaders, type SignatureVerdict } from '../capture/record.js';
import { PreparedSecrets, SIGNATURE_HEADER, verify } from '../signing/index.js';

/**
 * valid/invalid against the secret, unsigned without the header, unchecked without a secret.
 * Pass a PreparedSecrets on hot paths: turning a string into an HMAC key costs more than
 * the HMAC of a small body.
 */
export function signatureVerdict(headers: CapturedHeaders, body: Buffer, secret: string | PreparedSecrets | undefined): SignatureVerdict {
  const signature = headerValue(headers, SIGNATURE_HEADER);
  if (signature === undefined) return 'unsigned';
  if (secret === undefined) return 'unchecked';
  return verify(body, signature, secret) ? 'valid' : 'invalid';
}

// Read from the body alone, so the relay's channel page names events too.
export { eventOf } from '../capture/event-name.js';
