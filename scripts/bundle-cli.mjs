#!/usr/bin/env node
// Bundles the CLI for start-up speed; `npm run build` runs it after tsc.
//
// Why: Node 20's ES module loader pays per module (async resolve, read and link of each
// of the ~20 files a command loads, plus the loader's own start-up), and commander is
// CommonJS that it runs a lexer over. bin/fe-webhooks.js (CommonJS, see bin/package.json)
// instead requires two CommonJS files, which skips all of that:
//   dist/bin/main.cjs  src/cli/main.ts and what it imports up front: all that `--version` reads.
//   dist/bin/cli.cjs   what main.ts imports lazily (program.ts, every command, commander).
//                      Each command's modules still run only when that command is
//                      imported (esbuild wraps them in init functions), and the npm
//                      packages they use are require()d or import()ed only then.
// Each module exists once: cli.cjs takes main.ts's modules from main.cjs (errors are
// compared with instanceof), and main.ts's lazy imports are taken from cli.cjs.
// tsc still builds dist/ (the library and its types, and an unbundled dist/cli/).
// Also dist/verify/worker.cjs, verify's worker thread in one CommonJS file: a worker
// loading ~25 ES modules spent ~40 ms of CPU on it at every start, the bundle ~13 ms.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
// Two levels below the package root, as src/cli/version.ts expects (../../package.json).
const OUT_DIR = path.join(ROOT, 'dist', 'bin');
const MAIN = path.join(ROOT, 'src', 'cli', 'main.ts');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

// Bundled: commander, which every command but --version needs. The other packages load
// only in the commands that use them, from node_modules as before.
const BUNDLED_PACKAGES = new Set(['commander']);
const externalPackages = Object.keys(pkg.dependencies).filter((name) => !BUNDLED_PACKAGES.has(name));

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: externalPackages,
  // import.meta does not exist in CommonJS: src/cli/version.ts's import.meta.url becomes the file's URL.
  define: { 'import.meta.url': '__import_meta_url' },
  banner: { js: "'use strict';\nconst __import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  // Mostly to drop commander's JSDoc: fewer bytes for V8 to scan at every start-up.
  minifyWhitespace: true,
  legalComments: 'none',
  logLevel: 'warning',
};

/**
 * commander requires child_process when it loads, for executable subcommands, which this
 * CLI never has. Inside commander it becomes an object that requires it on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    const commanderDir = `${path.sep}node_modules${path.sep}commander${path.sep}`;
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      args.importer.includes(commanderDir) ? { path: 'node:child_process', namespace: 'lazy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let real;\nmodule.exports = new Proxy({}, { get: (_, key) => (real ??= require(${JSON.stringify(args.path)}))[key] });\n`,
      loader: 'js',
    }));
  },
};

/** Resolves module specifiers to the module of another output file: `require(file)[key][index]`. */
function fromOtherFile(name, file, key, indexOf) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.namespace === name) return { path: file, external: true };
        if (args.pluginData === name) return undefined;
        const resolved = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: name,
        });
        const index = resolved.errors.length === 0 ? indexOf(resolved.path, args) : -1;
        return index >= 0 ? { path: String(index), namespace: name } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: name }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(file)})[${JSON.stringify(key)}][${args.path}];\n`,
        loader: 'js',
      }));
    },
  };
}

// What main.ts loads up front (its static imports) and later (its dynamic imports).
const probe = await build({
  ...common,
  entryPoints: [MAIN],
  write: false,
  metafile: true,
  plugins: [
    {
      name: 'probe',
      setup: (b) =>
        b.onResolve({ filter: /.*/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, external: true } : undefined)),
    },
  ],
});
const upFront = Object.keys(probe.metafile.inputs)
  .map((input) => path.resolve(ROOT, input))
  .filter((file) => file !== MAIN);
const lazySpecifiers = [
  ...new Set(probe.metafile.inputs[path.relative(ROOT, MAIN)].imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path)),
];

const entry = (contents) => ({ contents, resolveDir: path.dirname(MAIN), sourcefile: 'entry.ts', loader: 'ts' });
const list = (items, line) => items.map((item, i) => line(JSON.stringify(item), i)).join('\n');

rmSync(OUT_DIR, { recursive: true, force: true });
await build({
  ...common,
  stdin: entry(
    `export * from ${JSON.stringify(MAIN)};\n${list(upFront, (file, i) => `import * as m${i} from ${file};`)}\n` +
      `export const __upFront = [${upFront.map((_, i) => `m${i}`).join(', ')}];`,
  ),
  outfile: path.join(OUT_DIR, 'main.cjs'),
  plugins: [
    fromOtherFile('lazy', './cli.cjs', '__lazy', (_, args) =>
      args.importer === MAIN && args.kind === 'dynamic-import' ? lazySpecifiers.indexOf(args.path) : -1,
    ),
  ],
});
await build({
  ...common,
  stdin: entry(
    `${list(lazySpecifiers, (spec, i) => `import * as l${i} from ${spec};`)}\n` +
      `export const __lazy = [${lazySpecifiers.map((_, i) => `l${i}`).join(', ')}];`,
  ),
  outfile: path.join(OUT_DIR, 'cli.cjs'),
  plugins: [fromOtherFile('up-front', './main.cjs', '__upFront', (file) => upFront.indexOf(file)), lazyChildProcessForCommander],
});

// Not in dist/bin: src/verify/parallel.ts finds it beside dist/verify/worker.js.
await build({
  ...common,
  entryPoints: [path.join(ROOT, 'src', 'verify', 'worker.ts')],
  outfile: path.join(ROOT, 'dist', 'verify', 'worker.cjs'),
});

// The inspector page (browser code, src/inspector/page/): one script and one style sheet,
// served by listen and the relay from dist/inspector/assets (src/inspector/assets.ts).
await build({
  entryPoints: [
    { in: path.join(ROOT, 'src', 'inspector', 'page', 'main.ts'), out: 'inspector' },
    { in: path.join(ROOT, 'src', 'inspector', 'page', 'inspector.css'), out: 'inspector' },
  ],
  outdir: path.join(ROOT, 'dist', 'inspector', 'assets'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
