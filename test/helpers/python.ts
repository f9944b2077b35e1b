import { spawnSync } from 'node:child_process';
import { programPath } from './system-programs.js';

/**
 * The provider page's own `verify_webhook`, run by python3: an independent check that
 * our signatures are what FrontEngine's receivers accept. Each case is
 * [body bytes, signature, secret]; returns one boolean per case.
 */
export function pythonVerify(cases: ReadonlyArray<[Buffer, string, string]>): boolean[] {
  const script = `
import base64, hashlib, hmac, json, sys

def verify_webhook(payload: bytes, signature: str, secret: str) -> bool:
    expected = hmac.new(
        secret.encode(),
        payload,
        hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", signature)

cases = json.load(sys.stdin)
print(json.dumps([verify_webhook(base64.b64decode(b), s, k) for b, s, k in cases]))
`;
  const input = JSON.stringify(cases.map(([body, signature, secret]) => [body.toString('base64'), signature, secret]));
  const result = spawnSync(programPath('python3'), ['-c', script], { input, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as boolean[];
}
