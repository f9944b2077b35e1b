// Shared by bench/relay.mjs and bench/relay-redis.mjs (run.mjs skips `_` files): the real
// relay as a child process, ready once it printed its --json ready line.
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

/** POST /channels: `{id, token, url}`. */
export async function createChannel(relayUrl) {
  return (await request(`${relayUrl}/channels`, { method: 'POST' })).body.json();
}
