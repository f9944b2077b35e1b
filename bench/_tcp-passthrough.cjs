// The least any forwarder costs, for bench/listen.mjs's reference line: each inbound TCP
// connection piped to its own connection to the app given as argv[2], bytes only, no
// HTTP parsing at all. What it costs is the kernel and event-loop work of moving each
// request and answer through a second process: no HTTP proxy can cost less.
// Prints its base URL as its first stdout line.
const net = require('node:net');

const target = new URL(process.argv[2]);
const server = net.createServer((inbound) => {
  const outbound = net.connect({ host: target.hostname, port: Number(target.port) });
  inbound.setNoDelay(true);
  outbound.setNoDelay(true);
  inbound.pipe(outbound).on('error', () => inbound.destroy());
  outbound.pipe(inbound).on('error', () => outbound.destroy());
  inbound.on('error', () => outbound.destroy());
  outbound.on('error', () => inbound.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}/`));
