import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpProtocolError, MAX_HEAD_BYTES, ResponseParser } from '../../src/delivery/http1/response-parser.js';

interface Parsed {
  status: number;
  keepAlive: boolean;
  trailing: number;
}

/** Feeds `pieces` one by one; the response as soon as the parser says it is whole (with how many pieces it took). */
function feed(pieces: Buffer[], parser = new ResponseParser()): (Parsed & { at: number }) | undefined {
  for (let i = 0; i < pieces.length; i++) {
    if (parser.execute(pieces[i] as Buffer)) return { status: parser.status, keepAlive: parser.keepAlive, trailing: parser.trailing, at: i };
  }
  return undefined;
}

/** Every way of cutting `text` in two, plus one byte at a time. */
function splits(text: string): Buffer[][] {
  const bytes = Buffer.from(text, 'latin1');
  const ways: Buffer[][] = [];
  for (let cut = 1; cut < bytes.length; cut++) ways.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  ways.push([bytes]);
  ways.push(Array.from(bytes, (byte) => Buffer.from([byte])));
  return ways;
}

function assertEveryway(text: string, expected: Parsed): void {
  for (const pieces of splits(text)) {
    const parsed = feed(pieces);
    assert.ok(parsed, `incomplete when split into ${pieces.map((p) => p.length).join('+')}`);
    assert.deepEqual({ status: parsed.status, keepAlive: parsed.keepAlive, trailing: parsed.trailing }, expected, `split ${pieces.map((p) => p.length).join('+')}`);
    assert.equal(parsed.at, pieces.length - 1, 'complete only with its last byte');
  }
}

const NODE_200 = 'HTTP/1.1 200 OK\r\nDate: Fri, 27 Nov 2026 08:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\nok';

test('Content-Length responses, split anywhere, end exactly at their last byte', () => {
  assertEveryway(NODE_200, { status: 200, keepAlive: true, trailing: 0 });
  assertEveryway('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 11\r\n\r\nTraceback…'.replace('…', '..'), { status: 500, keepAlive: true, trailing: 0 });
  assertEveryway('HTTP/1.1 204 No Content\r\n\r\n', { status: 204, keepAlive: true, trailing: 0 });
  assertEveryway('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { status: 200, keepAlive: true, trailing: 0 });
  // A status line with no reason phrase is allowed.
  assertEveryway('HTTP/1.1 202\r\nContent-Length: 1\r\n\r\nx', { status: 202, keepAlive: true, trailing: 0 });
});

test('chunked bodies with extensions and trailers, split anywhere', () => {
  const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA ; x="y"\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nX-More: 1\r\n\r\n';
  assertEveryway(chunked, { status: 200, keepAlive: true, trailing: 0 });
  assertEveryway('HTTP/1.1 201 Created\r\ntransfer-encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n', { status: 201, keepAlive: false, trailing: 0 });
  // Chunk data may contain CRLF and the terminator; only the sizes frame it.
  assertEveryway('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n\r\n0\r\n\r\n\r\n0\r\n\r\n', { status: 200, keepAlive: true, trailing: 0 });
});

test('1xx informational responses are skipped; the final status counts', () => {
  assertEveryway('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', { status: 200, keepAlive: true, trailing: 0 });
});

test('no length: the body runs to the close, and the connection is not reused', () => {
  const parser = new ResponseParser();
  assert.equal(parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome')), false);
  assert.equal(parser.execute(Buffer.from(' more')), false);
  assert.equal(parser.finish(), true);
  assert.deepEqual([parser.status, parser.keepAlive], [200, false]);
  // An unknown transfer coding last also runs to the close.
  const gzip = new ResponseParser();
  assert.equal(gzip.execute(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef')), false);
  assert.equal(gzip.finish(), true);
});

test('keep-alive follows the version and Connection header', () => {
  const keepAlive = (text: string): boolean | undefined => feed([Buffer.from(text)])?.keepAlive;
  assert.equal(keepAlive('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(keepAlive('HTTP/1.1 200 OK\r\nconnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(keepAlive('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), false);
  assert.equal(keepAlive('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n'), true);
});

test('bytes after a complete response are reported, and the parser is ready for the next one', () => {
  const parser = new ResponseParser();
  const parsed = feed([Buffer.from(`${NODE_200}HTTP/1.1`)], parser);
  assert.equal(parsed?.trailing, 8);
  parser.reset();
  assert.equal(parser.started, false);
  assert.equal(feed([Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')], parser)?.status, 404);
});

test('a close: nothing started is no response; a cut-off response throws', () => {
  assert.equal(new ResponseParser().finish(), false);
  for (const partial of ['HTTP/1.1 200', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel']) {
    const parser = new ResponseParser();
    assert.equal(parser.execute(Buffer.from(partial)), false);
    assert.equal(parser.started, true);
    assert.throws(() => parser.finish(), HttpProtocolError, partial);
  }
});

test('malformed responses throw HttpProtocolError (never anything else, never hang on a huge head)', () => {
  const malformed = [
    'SSH-2.0-OpenSSH_9.2\r\n\r\n',
    'HTTP/2 200\r\n\r\n',
    'HTTP/1.1 20 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'HTTP/1.1 200 OK\r\n: empty name\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n',
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abc\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n',
  ];
  for (const text of malformed) {
    for (const pieces of splits(text).slice(0, 3)) {
      assert.throws(() => feed(pieces), HttpProtocolError, JSON.stringify(text));
    }
  }
  // A head that never ends: refused once it passes the limit, in one chunk or many.
  const endless = Buffer.from(`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(MAX_HEAD_BYTES)}`);
  assert.throws(() => feed([endless]), HttpProtocolError);
  assert.throws(() => feed(Array.from({ length: endless.length / 1024 + 1 }, (_, i) => endless.subarray(i * 1024, (i + 1) * 1024))), HttpProtocolError);
  // An endless chunk-size line too.
  assert.throws(() => feed([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;' + 'x'.repeat(10_000))]), HttpProtocolError);
});
