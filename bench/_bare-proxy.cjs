// The least a Node forwarder does, for bench/listen.mjs's reference line: a plain
// node:http server that reads each request's body and forwards it with undici to the app
// given as argv[2], passing the app's status, headers and body back. No capture, no
// signature check, no log line, no hop-by-hop header care: what listen does on top of
// this is its own cost; what this costs is the floor for any Node http + undici proxy.
// Prints its base URL as its first stdout line.
const http = require('node:http');
const { Pool } = require('undici');

const target = new URL(process.argv[2]);
const pool = new Pool(target.origin, { connections: 32 });

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    try {
      const answer = await pool.request({
        path: req.url,
        method: req.method,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' },
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(502).end();
    }
  });
});
server.keepAliveTimeout = 10_000;
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}/`));
