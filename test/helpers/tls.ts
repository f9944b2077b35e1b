import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

export interface SelfSignedCert {
  key: Buffer;
  cert: Buffer;
}

let cached: Promise<SelfSignedCert> | undefined;

/** A throwaway self-signed certificate for 127.0.0.1 / localhost, made by openssl once per test process. */
export function selfSignedCert(): Promise<SelfSignedCert> {
  cached ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fe-webhooks-tls-'));
    try {
      const key = path.join(dir, 'key.pem');
      const cert = path.join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
          '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        { stdio: 'ignore' },
      );
      return { key: readFileSync(key), cert: readFileSync(cert) };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return cached;
}

/** An https server with a self-signed certificate on 127.0.0.1 and a free port; answers 200 to everything. */
export async function startHttpsReceiver(t: TestContext): Promise<{ url: string; server: Server; bodies: Buffer[] }> {
  const { key, cert } = await selfSignedCert();
  const bodies: Buffer[] = [];
  const server = createServer({ key, cert }, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    bodies.push(Buffer.concat(chunks));
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, server, bodies };
}
