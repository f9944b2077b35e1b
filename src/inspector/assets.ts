import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/**
 * The page's script and style sheet, built by `npm run build` into dist/inspector/assets.
 * Two levels below the package root, as this file is in src/inspector/, dist/inspector/
 * and (bundled) dist/bin/, so one relative URL finds them from all three.
 */
const ASSET_DIR = new URL('../../dist/inspector/assets/', import.meta.url);
const TYPES: Record<string, string> = { 'inspector.js': 'text/javascript; charset=utf-8', 'inspector.css': 'text/css; charset=utf-8' };

const cache = new Map<string, Buffer>();

/** Whether `name` is one of the inspector's assets. */
export function isInspectorAsset(name: string): boolean {
  return Object.hasOwn(TYPES, name);
}

/** Serves one asset (read once, then from memory). */
export async function sendInspectorAsset(res: ServerResponse, name: string): Promise<void> {
  let bytes = cache.get(name);
  if (bytes === undefined) {
    bytes = await readFile(new URL(name, ASSET_DIR));
    cache.set(name, bytes);
  }
  res
    .writeHead(200, {
      'content-type': TYPES[name] as string,
      'content-length': bytes.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    })
    .end(bytes);
}

/** The page's headers: its own scripts and styles only, no framing, no referrer. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; form-action 'none'; " +
      "base-uri 'none'; frame-ancestors 'none'",
} as const;
