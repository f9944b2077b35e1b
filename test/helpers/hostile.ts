import { connect } from 'node:net';
import { Random } from '../../src/events/random.js';

/**
 * Hostile-input cases for any HTTP server of ours: raw bytes written to a socket, so
 * that malformed HTTP reaches the server exactly as an attacker would send it.
 */
export interface HostileCase {
  name: string;
  /** Raw bytes, written in order; a number is a pause in milliseconds (slow drip). */
  chunks: Array<Buffer | number>;
  /** What an answer must look like: any 4xx, a 2xx/4xx, or nothing specific but no 5xx. */
  expect: '4xx' | '2xx-or-4xx' | 'no-5xx';
}

export interface HostileOutcome {
  name: string;
  status?: number;
  /** The connection closed or timed out without a status line. */
  noAnswer: boolean;
  ok: boolean;
}

export interface CaseTargets {
  /** Paths a webhook may be posted to (`/`, `/c/<id>`). */
  postPaths: string[];
  /** Paths that must be refused (unknown channel, traversal), with the status due. */
  refusedPaths: Array<{ path: string; status: number }>;
  /** The body limit, for oversized cases. */
  maxBodyBytes: number;
}

const CRLF = '\r\n';

function request(method: string, path: string, headers: Array<[string, string]>, body: Buffer | string = ''): Buffer {
  const head = `${method} ${path} HTTP/1.1${CRLF}${headers.map(([k, v]) => `${k}: ${v}${CRLF}`).join('')}${CRLF}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]);
}

function post(path: string, body: Buffer | string, extra: Array<[string, string]> = []): Buffer {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  return request('POST', path, [['Host', '127.0.0.1'], ['Content-Type', 'application/json'], ['Content-Length', String(length)], ['Connection', 'close'], ...extra], body);
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** `count` cases drawn with a fixed seed from every family, so a failure replays exactly. */
export function hostileCases(targets: CaseTargets, count: number, seed = 20261127): HostileCase[] {
  const rng = new Random(seed);
  const refused = (): HostileCase => {
    const target = rng.pick(targets.refusedPaths);
    return { name: `refused path ${target.path}`, chunks: [post(target.path, '{}')], expect: '4xx' };
  };
  const families: Array<() => HostileCase> = [
    () => {
      const junk = Buffer.from(rng.string(rng.int(1, 200), 'ABCDEFGHIJ \r\n:/%\x00\x7f\u00ff'), 'latin1');
      return { name: 'malformed request line', chunks: [junk, Buffer.from(CRLF + CRLF)], expect: 'no-5xx' };
    },
    () => ({
      name: 'bad HTTP version',
      chunks: [Buffer.from(`POST ${rng.pick(targets.postPaths)} HTTP/${rng.pick(['9.9', '1.x', '', '0'])}\r\nHost: x\r\n\r\n`)],
      expect: 'no-5xx',
    }),
    () => {
      const body = '{"event":"MessageSent"}';
      const lie = rng.pick([-5, 7, 100000, -1e9]);
      const length = rng.pick([String(Buffer.byteLength(body) + lie), 'abc', '1, 2', '-1', '']);
      return {
        name: 'wrong Content-Length',
        chunks: [request('POST', rng.pick(targets.postPaths), [['Host', 'x'], ['Content-Length', length], ['Connection', 'close']], body)],
        expect: 'no-5xx',
      };
    },
    () => ({
      name: 'Content-Length and chunked together',
      chunks: [request('POST', rng.pick(targets.postPaths), [['Host', 'x'], ['Content-Length', '5'], ['Transfer-Encoding', 'chunked']], '0\r\n\r\n')],
      expect: '4xx',
    }),
    () => {
      const garbage = rng.pick(['zz\r\nabc\r\n0\r\n\r\n', '5\r\nabc\r\n0\r\n\r\n', 'fffffffffffffff\r\n', '3;ext=\u0000\r\nabc\r\n0\r\n\r\n', '-1\r\n\r\n']);
      return {
        name: 'chunked garbage',
        chunks: [request('POST', rng.pick(targets.postPaths), [['Host', 'x'], ['Transfer-Encoding', 'chunked'], ['Connection', 'close']], garbage)],
        expect: 'no-5xx',
      };
    },
    () => {
      const bytes = Buffer.from(Array.from({ length: rng.int(1, 300) }, () => rng.int(0, 255)));
      return { name: 'invalid UTF-8 body', chunks: [post(rng.pick(targets.postPaths), bytes)], expect: '2xx-or-4xx' };
    },
    () => {
      const size = rng.pick([20_000, 70_000, 200_000]);
      return {
        name: 'huge header',
        chunks: [request('POST', rng.pick(targets.postPaths), [['Host', 'x'], ['X-Big', 'a'.repeat(size)], ['Content-Length', '2'], ['Connection', 'close']], '{}')],
        expect: size > 16_000 ? '4xx' : '2xx-or-4xx',
      };
    },
    () => ({
      name: 'many headers',
      chunks: [request('POST', rng.pick(targets.postPaths), [['Host', 'x'], ...Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, 'v'] as [string, string]), ['Content-Length', '2'], ['Connection', 'close']], '{}')],
      expect: 'no-5xx',
    }),
    () => {
      const whole = post(rng.pick(targets.postPaths), '{"event":"MessageHeld","payload":{}}');
      const cut = rng.int(5, whole.length - 1);
      // Slow drip: a few pieces with pauses, bounded to well under a second in all.
      return { name: 'slow-drip request', chunks: [whole.subarray(0, cut), rng.int(20, 120), whole.subarray(cut)], expect: '2xx-or-4xx' };
    },
    () => ({
      name: 'oversized body',
      chunks: [post(rng.pick(targets.postPaths), Buffer.alloc(targets.maxBodyBytes + rng.int(1, 4096), 0x61))],
      expect: '4xx',
    }),
    () => ({
      name: 'oversized declared length',
      chunks: [request('POST', rng.pick(targets.postPaths), [['Host', 'x'], ['Content-Length', String(targets.maxBodyBytes * 4)], ['Connection', 'close']], '{}')],
      expect: '4xx',
    }),
    () => ({ name: 'deeply nested JSON', chunks: [post(rng.pick(targets.postPaths), nested(rng.pick([1000, 10_000, 100_000])))], expect: '2xx-or-4xx' }),
    refused,
    () => ({
      name: 'odd method',
      chunks: [request(rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'FOO', 'CONNECT']), rng.pick(targets.postPaths), [['Host', 'x'], ['Content-Length', '0'], ['Connection', 'close']])],
      expect: 'no-5xx',
    }),
    () => ({ name: 'not JSON', chunks: [post(rng.pick(targets.postPaths), rng.pick(['not json', '', '{"event":', 'null', '\u0000\u0001']))], expect: '2xx-or-4xx' }),
  ];
  // A target with no refused paths (listen accepts every path) skips that family.
  const usable = targets.refusedPaths.length > 0 ? families : families.filter((f) => f !== refused);
  return Array.from({ length: count }, (_, i) => {
    const c = (usable[i % usable.length] as () => HostileCase)();
    return { ...c, name: `#${i} ${c.name}` };
  });
}

/** Plays every case, `concurrency` at a time, in order of the list. */
export async function playCases(port: number, cases: readonly HostileCase[], concurrency = 16, timeoutMs = 1500): Promise<HostileOutcome[]> {
  const outcomes: HostileOutcome[] = new Array(cases.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < cases.length) {
        const index = next++;
        outcomes[index] = await playCase(port, cases[index] as HostileCase, timeoutMs);
      }
    }),
  );
  return outcomes;
}

/** Plays one case against host:port and classifies the answer (bounded by `timeoutMs`). */
export function playCase(port: number, hostileCase: HostileCase, timeoutMs = 2000): Promise<HostileOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      const status = match ? Number(match[1]) : undefined;
      const noAnswer = status === undefined;
      let ok: boolean;
      if (status !== undefined && status >= 500) ok = false;
      else if (hostileCase.expect === '4xx') ok = noAnswer || (status as number) >= 400;
      else if (hostileCase.expect === '2xx-or-4xx') ok = noAnswer ? false : (status as number) < 300 || (status as number) >= 400;
      else ok = true;
      resolve({ name: hostileCase.name, ...(status !== undefined ? { status } : {}), noAnswer, ok });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (/^HTTP\/1\.[01] \d{3}/.test(received)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', async () => {
      for (const chunk of hostileCase.chunks) {
        if (settled) return;
        if (typeof chunk === 'number') await new Promise((r) => setTimeout(r, chunk));
        else socket.write(chunk);
      }
    });
  });
}

/** Resident memory of a process, from /proc (Linux), in bytes. */
export async function residentBytes(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb) * 1024;
}
