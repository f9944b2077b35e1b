/**
 * Defaults that make the commands work together with no flags: `listen` binds
 * DEFAULT_LISTEN_PORT on loopback, `send` aims there, `verify` reads the captures file
 * `listen` writes.
 */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
export const DEFAULT_LISTEN_PORT = 7878;
/** Where `send` posts when neither --url nor the config names a URL: the local `listen`. */
export const DEFAULT_SEND_URL = `http://${DEFAULT_LISTEN_HOST}:${DEFAULT_LISTEN_PORT}/`;
/** Relative to the working directory. */
export const DEFAULT_CAPTURES_FILE = '.fe-webhooks/captures.jsonl';
/** FrontEngine counts a delivery only if a 2xx comes back within 5 s. */
export const FRONTENGINE_TIMEOUT_MS = 5_000;
/** GitHub's webhook payload ceiling; FrontEngine publishes none. */
export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;
/** FrontEngine's retry schedule after a failed attempt: 1 min, 5 min, 30 min, 2 h, 12 h. */
export const FRONTENGINE_RETRY_DELAYS_MS: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000];
