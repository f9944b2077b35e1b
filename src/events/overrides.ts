import { UserError } from '../errors.js';

/** One `--set path=value` override. */
export interface FieldOverride {
  path: string[];
  value: unknown;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses `payload.message.to=a@b.c`. The value is JSON when it parses as JSON (numbers,
 * booleans, null, objects), otherwise the literal string.
 */
export function parseFieldOverride(spec: string): FieldOverride {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new UserError(`Invalid --set "${spec}": expected path=value, e.g. payload.message.to=a@example.com`);
  const path = spec.slice(0, eq).split('.');
  if (!isFieldPath(path)) {
    throw new UserError(`Invalid --set "${spec}": the path must be dot-separated field names`);
  }
  const raw = spec.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Not JSON: the string itself.
  }
  if (typeof value === 'number' && /^-?\d+$/.test(raw.trim()) && !Number.isSafeInteger(value)) {
    throw new UserError(
      `Invalid --set "${spec}": ${raw.trim()} is past 2^53 and would change as a JSON number (to ${value}); quote it for a string`,
    );
  }
  const overflow = nonFiniteNumberAt(value, path.join('.'));
  if (overflow !== undefined) {
    throw new UserError(
      `Invalid --set "${spec}": ${overflow} is too large for a JSON number (it would be sent as null); quote it for a string`,
    );
  }
  return { path, value };
}

/** Dot-separated field names, none empty and none that would reach an object's prototype. */
export function isFieldPath(path: readonly string[]): boolean {
  return path.length > 0 && path.every((key) => key !== '' && !FORBIDDEN_KEYS.has(key));
}

/**
 * Where a parsed JSON value holds a number too large for a double (`1e400` parses as
 * Infinity, which JSON.stringify writes as null), or undefined when it holds none.
 */
export function nonFiniteNumberAt(value: unknown, at: string): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : at;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = nonFiniteNumberAt(item, Array.isArray(value) ? `${at}[${key}]` : at === '' ? key : `${at}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets one field, creating objects along the path as needed. Mutates `target`. */
export function applyFieldOverride(target: Record<string, unknown>, override: FieldOverride): void {
  let node = target;
  override.path.slice(0, -1).forEach((key) => {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  });
  node[override.path[override.path.length - 1] as string] = override.value;
}

/** Deep-merges `partial` into `target`: objects merge, everything else (arrays included) replaces. */
export function deepMerge(target: Record<string, unknown>, partial: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(partial)) {
    if (FORBIDDEN_KEYS.has(key)) continue;
    const existing = target[key];
    target[key] = isPlainObject(value) && isPlainObject(existing) ? deepMerge(existing, value) : value;
  }
  return target;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return isPlainObject(value);
}
