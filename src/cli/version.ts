import { readFileSync } from 'node:fs';

interface PackageJson {
  version: string;
  bugs?: string | { url?: string; email?: string };
}

let cached: PackageJson | undefined;

/** This package's package.json, read once (shipped beside dist/). */
function packageJson(): PackageJson {
  cached ??= JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson;
  return cached;
}

/** This package's version. */
export function packageVersion(): string {
  return packageJson().version;
}

/** Where bugs are reported, from package.json's `bugs` (a URL, or an object with `url` or `email`); undefined when it has none. */
export function bugReportAddress(pkg: Pick<PackageJson, 'bugs'> = packageJson()): string | undefined {
  const { bugs } = pkg;
  if (typeof bugs === 'string') return bugs.trim() || undefined;
  return bugs?.url?.trim() || bugs?.email?.trim() || undefined;
}
