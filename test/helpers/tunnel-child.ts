// A bare listener process for tunnel tests: forwards relayed events to APP_URL with the
// tunnel client and a file cursor, prints one JSON line per status. Run with tsx.
import { openCursorFile } from '../../src/tunnel/cursor-file.js';
import { openTunnel } from '../../src/tunnel/client.js';
import { forwardTo } from './relay.js';

const env = process.env as Record<string, string>;
const cursor = await openCursorFile(env.CURSOR_FILE as string);
const tunnel = openTunnel({
  relayUrl: new URL(env.RELAY_URL as string),
  channel: env.CHANNEL as string,
  token: env.TOKEN as string,
  cursor,
  handler: forwardTo(env.APP_URL as string),
  reconnect: { initialMs: 50, maxMs: 300 },
  onStatus: (status) => process.stdout.write(`${JSON.stringify(status)}\n`),
});
process.on('SIGTERM', () => void tunnel.close());
await tunnel.done.catch((error: Error) => {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
});
