// One port-binding helper (src/util/listen-on.ts) for every server the tool starts: the
// relay's taken port reads exactly as listen's, one line and exit 2, and the relay's data
// folder is free again for the next try.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import { startRelayProcess } from '../helpers/relay.js';

async function occupiedPort(t: TestContext): Promise<number> {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  return (blocker.address() as AddressInfo).port;
}

const inUse = (port: number): string =>
  `error: Port ${port} on 127.0.0.1 is already in use: stop the other program or pick another with --port (0 = any free port)\n`;

test('relay and listen say a taken port the same way: one line, exit 2', async (t) => {
  const port = await occupiedPort(t);
  const cwd = await tempDir(t, 'fe-webhooks-port-');
  const dataDir = path.join(cwd, 'relay-data');
  const relay = await runCli(['relay', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir], { cwd });
  assert.equal(relay.code, 2);
  assert.equal(relay.stderr, inUse(port));
  const listen = await runCli(['listen', '--port', String(port), '--host', '127.0.0.1', '--no-save'], { cwd });
  assert.equal(listen.code, 2);
  assert.equal(listen.stderr, inUse(port));
  // The failed start left the data folder unlocked: a relay on a free port takes it.
  const next = await startRelayProcess(t, dataDir);
  assert.ok(next.port > 0);
});
