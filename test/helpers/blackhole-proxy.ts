import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

export interface BlackholeProxy {
  port: number;
  /** Connections open now go silent both ways, without a FIN or RST: a dead network link. */
  cut(): number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`. `cut()` makes every connection open
 * at that moment swallow bytes in both directions while staying open — what a dropped
 * NAT entry or a pulled cable looks like to both ends. New connections pass normally.
 */
export async function startBlackholeProxy(t: TestContext, targetPort: number): Promise<BlackholeProxy> {
  const open = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const link = { client, upstream, dead: false };
    open.add(link);
    client.on('data', (chunk) => {
      if (!link.dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!link.dead) client.write(chunk);
    });
    const end = (): void => {
      open.delete(link);
      client.destroy();
      upstream.destroy();
    };
    // A dead link stays dead: even a close from either end is not passed on.
    client.on('close', () => !link.dead && end());
    upstream.on('close', () => !link.dead && end());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const link of open) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      let count = 0;
      for (const link of open) {
        if (!link.dead) count++;
        link.dead = true;
      }
      return count;
    },
  };
}
