// The lint guards the design more than the style: the layers of README's "Architecture"
// (each folder imports only folders on a lower floor), no import cycles, the CLI-only
// libraries kept in src/cli/, and a 140-character line. typescript-eslint runs without type
// information so `npm run lint` stays a few seconds on a 2-core machine.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The zones' paths below are relative to this folder (the rule's default is the process's
// cwd, so an `eslint` started elsewhere, a test or an editor, saw no zone at all).
const ROOT = path.dirname(fileURLToPath(import.meta.url));

// Floors, bottom to top. A folder imports only from floors below its own (and from itself);
// README's "Architecture" draws the same picture.
const FLOORS = [
  ['src/errors.ts'],
  ['src/util'],
  ['src/config', 'src/signing', 'src/protocol', 'src/events'],
  ['src/capture'],
  ['src/delivery', 'src/intake', 'src/inspector', 'src/scenario', 'src/tunnel', 'src/verify'],
  ['src/relay', 'src/listen', 'src/replay', 'src/check'],
  ['src/index.ts', 'src/cli'],
];

const layerZones = FLOORS.flatMap((floor, level) =>
  floor.map((target) => ({
    target: `./${target}`,
    from: FLOORS.slice(level)
      .flat()
      .filter((other) => other !== target)
      .map((other) => `./${other}`),
    message: `${target} sits below these folders (README "Architecture"): move the shared piece down (e.g. to src/util) instead.`,
  })),
);

// The inspector page is browser code: it shares only the wire types with the server.
const pageZone = {
  target: './src/inspector/page',
  from: './src',
  except: ['./inspector/page', './inspector/wire.ts'],
  message: 'The inspector page runs in a browser: it may import only src/inspector/wire.ts.',
};

const CLI_ONLY = ['commander', 'chalk', 'ora'].map((name) => ({
  name,
  message: `${name} belongs to src/cli/ only: the core returns values and throws errors, the CLI prints and exits.`,
}));

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.fe-webhooks/', 'tmp/', 'test/fixtures/', 'src/events/generated/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX, '@stylistic': stylistic },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
    },
    // Sources import './x.js' and mean './x.ts' (NodeNext), so the resolver maps one to the other.
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.cjs'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: {
      // Layering and cycles are the point. no-cycle catches runtime cycles in the editor too;
      // scripts/check-cycles.mjs (npm run lint) also counts type-only imports and import(),
      // which this rule skips.
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: [...layerZones, pageZone] }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@stylistic/max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true }],
      // The rest is typescript-eslint's recommended set, less what this codebase does on purpose:
      // `_`-prefixed names are unused by design, `any` and `!` appear where a type check
      // just happened, and control characters in regexps are how outside bytes get escaped.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A catch that swallows an error says so: debugSkipped()/skipped() from src/util/debug.ts,
      // or at least a comment on why nothing is lost.
      'no-empty': ['error', { allowEmptyCatch: false }],
      'no-control-regex': 'off',
      // TypeScript already reports undefined names; scripts and benches run on Node's globals.
      'no-undef': 'off',
    },
  },
  {
    // bin/ is CommonJS on purpose (start-up never waits on the ES module loader), and so are
    // the benches' .cjs helpers.
    files: ['bin/**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests hold long literal inputs and expected outputs: the line length is checked on
    // src/, scripts/, bin/ and bench/.
    files: ['test/**'],
    rules: { '@stylistic/max-len': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: CLI_ONLY }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Only src/cli/ ends the process: throw a typed error (src/errors.ts) instead.' },
      ],
    },
  },
);
