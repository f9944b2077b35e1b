import type { TestContext } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { request } from 'undici';
import { sign } from '../../src/signing/index.js';
import { programPath } from './system-programs.js';

/** Real Chromium, headless, with nothing that calls out to the network. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

export async function launchChromium(t: TestContext): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: programPath('chromium'), args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  return browser;
}

/** POSTs a body to a capture URL, signed with `secret` when one is given; returns the status. */
export async function post(url: string, body: string | Buffer, options: { secret?: string; headers?: Record<string, string>; method?: string } = {}): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.secret !== undefined) headers['x-webhook-signature'] = sign(body, options.secret);
  const res = await request(url, { method: (options.method ?? 'POST') as 'POST', body, headers });
  await res.body.dump();
  return res.statusCode;
}
