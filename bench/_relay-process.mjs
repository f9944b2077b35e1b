// Shared by bench/relay.mjs, bench/relay-redis.mjs and the _relay-* aids (run.mjs skips `_`
// files): the real relay as a child process, ready once it printed its --json ready line, and
// the listen --relay that delivers from it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin/fe-webhooks.js');

/** The trivial app both relay benches deliver to, run with `node --input-type=module -e`. */
export const APP_SOURCE = `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
`;

/**
 * The app the end-to-end comparison delivers to (bench/relay.mjs): it checks every
 * signature as the provider's `verify_webhook` does (HMAC-SHA256 of the exact body bytes,
 * compared in constant time) and counts what reached it. argv[1]: the secret.
 * `GET /stats` → {delivered, valid, invalid, first, last} (wall-clock ms with sub-ms
 * precision, comparable across processes); `POST /reset` zeroes them.
 */
export const VERIFYING_APP_SOURCE = `
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
const secret = Buffer.from(process.argv[1], 'utf8');
let stats = { delivered: 0, valid: 0, invalid: 0, first: 0, last: 0 };
const now = () => performance.timeOrigin + performance.now();
const verify = (payload, signature) => {
  const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(payload).digest('hex'));
  const given = Buffer.from(String(signature ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
};
const server = createServer((req, res) => {
  if (req.url === '/stats') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  if (req.url === '/reset') {
    req.resume();
    stats = { delivered: 0, valid: 0, invalid: 0, first: 0, last: 0 };
    return req.on('end', () => res.writeHead(204).end());
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const ok = verify(Buffer.concat(chunks), req.headers['x-webhook-signature']);
    const at = now();
    stats.delivered++;
    if (ok) stats.valid++;
    else stats.invalid++;
    if (stats.first === 0) stats.first = at;
    stats.last = at;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"ok":true}' : '{"error":"bad signature"}');
  });
});
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + server.address().port })));
`;

/** Sends SIGTERM and resolves when the child has exited (at once if it already has). */
export function stopper(child) {
  return () => (child.kill('SIGTERM'), new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve))));
}

/** `fe-webhooks relay` on a free port with the rate limit out of the way of the load. */
export async function startRelay(dataDir, extra = [], nodeArgs = []) {
  const child = spawn(
    process.execPath,
    [...nodeArgs, BIN, 'relay', '--port', '0', '--data-dir', dataDir, '--json', '--rate-limit', '100000000', ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const value = JSON.parse(line);
      if (value.type === 'ready') resolve(value);
    });
  });
  return { ...ready, child, stop: stopper(child) };
}

/**
 * The arguments of the real `listen --relay` on `channel`, forwarding to `appUrl` (script
 * path first; captures on, as a user runs it, unless env BENCH_NO_SAVE is set).
 */
export function listenRelayArgs({ relayUrl, channel, appUrl, secret, concurrency }) {
  return [
    BIN,
    'listen',
    '--json',
    '--port',
    '0',
    '--relay',
    relayUrl,
    '--channel',
    channel.id,
    '--token',
    channel.token,
    '--forward',
    appUrl,
    ...(concurrency !== undefined ? ['--concurrency', String(concurrency)] : []),
    '--secret',
    secret,
    ...(process.env.BENCH_NO_SAVE ? ['--no-save'] : []),
  ];
}

/** POST /channels: `{id, token, url}`. */
export async function createChannel(relayUrl) {
  return (await request(`${relayUrl}/channels`, { method: 'POST' })).body.json();
}
