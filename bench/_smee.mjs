// The peer for bench/relay.mjs (run.mjs skips `_` files): smee's server (probot/smee.io,
// not on the npm registry: its folder comes from SMEE_SERVER_DIR) and its client
// (smee-client@5, a devDependency), forwarding one channel to the app.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { stopper } from './_relay-process.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SMEE_CLIENT = path.join(ROOT, 'node_modules/smee-client/bin/smee.js');
const READY_MS = 20_000;

const HOW_TO_GET_IT = [
  'bench: SMEE_SERVER_DIR is not set, so the smee row is skipped. To run it: fetch github:probot/smee.io into a folder',
  'outside this repo, run `npm install --omit=dev` there, create empty public/main.min.css and public/main.min.js',
  '(its webpack build is not needed), then SMEE_SERVER_DIR=<that folder> node bench/relay.mjs',
].join(' ');

/** A free loopback port (smee's server takes PORT, not 0). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function until(what, check) {
  const deadline = performance.now() + READY_MS;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`smee: ${what} not ready within ${READY_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * smee's server and a connected smee client forwarding to `appUrl`/webhooks, or
 * undefined (with a line on stderr saying how to get the server) without SMEE_SERVER_DIR.
 * Both print a line per event: to /dev/null for the server, to a file for the client
 * (read once, for "Connected"), so the bench process never drains their output.
 */
export async function startSmee(appUrl, workDir) {
  const serverDir = process.env.SMEE_SERVER_DIR;
  if (!serverDir || !existsSync(path.join(serverDir, 'index.js'))) {
    process.stderr.write(`${HOW_TO_GET_IT}\n`);
    return undefined;
  }
  await mkdir(workDir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, PORT: String(port), NODE_ENV: 'development' };
  const server = spawn(process.execPath, ['index.js'], { cwd: serverDir, env, stdio: 'ignore' });
  const stops = [stopper(server)];
  try {
    await until('server', async () => (await request(`${base}/`)).body.dump().then(() => true));
    const postUrl = `${base}/fe-bench-${port}`;
    const outFile = path.join(workDir, 'smee-client.out');
    const out = await open(outFile, 'w');
    const args = [SMEE_CLIENT, '--url', postUrl, '--target', `${appUrl}/webhooks`];
    const client = spawn(process.execPath, args, { cwd: workDir, stdio: ['ignore', out.fd, out.fd] });
    await out.close();
    stops.push(stopper(client));
    await until('client', async () => (await readFile(outFile, 'utf8')).includes('Connected'));
    return { server, client, postUrl, stop: () => Promise.all(stops.map((stop) => stop())) };
  } catch (error) {
    await Promise.all(stops.map((stop) => stop()));
    throw error;
  }
}
